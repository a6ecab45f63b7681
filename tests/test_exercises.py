"""Every exercise has a checker with hints in both languages, and every stored solution passes it (live)."""
import pytest

from course_tasks.exercises import EXERCISES, verdict
from lessons import LANGS, exercises, imports, lesson_names

CASES = [(lang, name, ex_id, code) for lang in LANGS for name in lesson_names(lang) for ex_id, code in exercises(lang, name)]


@pytest.mark.parametrize("lang,name,ex_id,code", CASES, ids=[f"{c[0]}-{c[2]}" for c in CASES])
def test_solution_passes_its_checker(lang, name, ex_id, code):
    namespace = {}
    exec(imports(lang, name), namespace)
    exec(code, namespace)
    right, message = verdict(ex_id, namespace["answer"], lang=lang)
    assert right, message
    assert message == verdict(ex_id, namespace["answer"], lang=lang)[1]


def test_every_exercise_of_the_lessons_has_a_checker():
    used = {ex_id for _, _, ex_id, _ in CASES}
    assert used == set(EXERCISES), "checkers without exercises, or exercises without checkers"


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_unanswered_and_wrong_answers_are_not_accepted(ex_id):
    for lang in LANGS:
        right, message = verdict(ex_id, ..., lang=lang)
        assert not right and ex_id in message
        right, message = verdict(ex_id, object(), lang=lang)
        assert not right and ex_id in message
