"""Every exercise has a checker with hints in both languages, and every stored solution passes it (live)."""
import pytest
from lessons import LANGS, exercises, imports, lesson_names

from course_tasks.exercises import PREDICT, PREDICTED, all_exercises, forget_predictions, verdict

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
        forget_predictions()  # each language judges a prediction made before its own experiment
        right, message = verdict(ex_id, namespace["answer"], lang=lang)
        assert right, message
        assert message.split("\n")[0].endswith(RIGHT[lang]), message


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


@pytest.mark.parametrize("lang", LANGS)
def test_a_prediction_is_judged_once_its_experiment_has_run_and_a_later_one_is_told_so(lang):
    """A predict exercise records the prediction, then runs its experiment: what happened comes after the verdict.
    A second prediction for the same exercise in the same notebook is made after the experiment was seen: said."""
    forget_predictions()
    right, message = verdict("06.1", 5, lang=lang)  # the chain's value is 2.0
    verdict_line, seen = message.split("\n", 1)
    assert not right and verdict_line.startswith({"en": "Exercise 06.1: not yet.", "ru": "Упражнение 06.1: пока"}[lang])
    assert seen.startswith({"en": "What happened:", "ru": "Что произошло:"}[lang]) and "mul(0.5, 4)" in seen
    assert {"en": "call", "ru": "вызов"}[lang] in seen  # the journal's table in the verdict's language
    right, message = verdict("06.1", 2.0, lang=lang)
    assert right and "5" in message.split("\n")[0]  # right, but after the experiment: the first prediction named
    assert not message.split("\n")[0].endswith(RIGHT[lang])
    forget_predictions()


def test_a_prediction_of_the_wrong_form_runs_no_experiment():
    forget_predictions()
    for ex_id in sorted(PREDICT):
        right, message = verdict(ex_id, "not a prediction of any exercise" if ex_id not in ("00.1", "10.1") else 3,
                                 lang="en")
        assert not right and "did not run" in message, (ex_id, message)
    assert not any(PREDICTED.values()), "a prediction of the wrong form was recorded"


def test_14_2_a_callback_with_the_sum_written_in_is_rejected():
    from course_tasks import add, mul

    is_right, message = verdict("14.2", add.apply_async((3, 4), link=mul.si(7, 10)), lang="en")
    assert not is_right and "mul.si(7, 10)" in message and "written into the call" in message
    assert verdict("14.2", add.apply_async((3, 4), link=mul.s(10)), lang="en")[0]
