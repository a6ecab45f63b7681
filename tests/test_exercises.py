"""Every exercise has a checker with hints in both languages, and every stored solution passes it (live)."""
import pytest
from lessons import LANGS, exercises, imports, lesson_names

from course_tasks.exercises import all_exercises, verdict

# test_parity.py proves that both languages hold the same solution code: each runs once, judged in both.
CASES = [(name, ex_id, code) for name in lesson_names("en") for ex_id, code in exercises("en", name)]
RIGHT = {"en": "right!", "ru": "верно!"}
EXERCISES = all_exercises()  # every lesson's checkers (a lesson's module is otherwise imported when first asked)


@pytest.mark.parametrize("name,ex_id,code", CASES, ids=[c[1] for c in CASES])
def test_solution_passes_its_checker(name, ex_id, code):
    namespace = {}
    exec(imports("en", name), namespace)
    exec(code, namespace)
    for lang in LANGS:
        right, message = verdict(ex_id, namespace["answer"], lang=lang)
        assert right, message
        assert message.endswith(RIGHT[lang])


def test_every_exercise_of_the_lessons_has_a_checker():
    used = {ex_id for _, ex_id, _ in CASES}
    assert used == set(EXERCISES), "checkers without exercises, or exercises without checkers"


@pytest.mark.parametrize("ex_id", sorted(EXERCISES))
def test_unanswered_and_wrong_answers_are_not_accepted(ex_id):
    for lang in LANGS:
        right, message = verdict(ex_id, ..., lang=lang)
        assert not right and ex_id in message
        right, message = verdict(ex_id, object(), lang=lang)
        assert not right and ex_id in message
