"""Exercises of lesson 16: periodic tasks. The checkers ask Celery itself when a crontab runs (``remaining_estimate``,
with a fixed "now" and the app's time zone), so a verdict never depends on the clock of the machine."""
import re
from datetime import timedelta

from celery.schedules import crontab

from .. import periodic
from ..i18n import register, say
from . import exercise

NOW_16_1 = periodic.utc(2026, 12, 7, 8, 0)  # a Monday, 08:00 UTC: 11:00 in Moscow
WHEN = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d")
# 16.2: from Friday 16:00 UTC to Monday 10:00 UTC, the runs a "every 4 minutes, 9:00-17:59, Monday to Friday" crontab
# must have (in the app's time zone: UTC)
START_16_2, END_16_2 = periodic.utc(2026, 12, 11, 16, 0), periodic.utc(2026, 12, 14, 10, 0)

register({
    "exercise.16.2.type": {"en": "the answer is a crontab(...)",
                           "ru": "ответ — crontab(...)"},
    "exercise16_runs": {"en": "{count} runs from {start} to {end}; the first ones: {first}",
                        "ru": "запусков с {start} по {end}: {count}; первые: {first}"},
})


def is_when(answer):
    return isinstance(answer, str) and WHEN.fullmatch(answer.strip()) is not None


@exercise("16.1", en="a crontab is read in the app's timezone: 9:30 in Moscow (UTC+3) is 6:30 UTC. At 08:00 UTC "
                     "(11:00 in Moscow), has today's 9:30 already passed?",
          ru="crontab читается в часовом поясе приложения (timezone): 9:30 по Москве (UTC+3) — это 6:30 UTC. В 08:00 "
             "UTC (11:00 по Москве) сегодняшние 9:30 уже прошли?",
          prediction=is_when)
def _(prediction):
    seen = periodic.next_run(crontab(hour=9, minute=30), "Europe/Moscow", NOW_16_1).strftime("%Y-%m-%d %H:%M")
    return prediction.strip() == seen, seen


def _expected_16_2():
    found, when = [], START_16_2
    while when <= END_16_2:
        if when.weekday() < 5 and 9 <= when.hour <= 17 and when.minute % 4 == 0 and when > START_16_2:
            found.append(when)
        when += timedelta(minutes=1)
    return found


@exercise("16.2", en="crontab(minute=4) means at minute 4 of every hour. Every 4 minutes is minute='*/4'; working "
                     "hours are hour='9-17' (9:00 to 17:56), and Monday to Friday is day_of_week='mon-fri'.",
          ru="crontab(minute=4) значит «на 4-й минуте каждого часа». Каждые 4 минуты — minute='*/4'; рабочие часы — "
             "hour='9-17' (с 9:00 до 17:56), а с понедельника по пятницу — day_of_week='mon-fri'.")
def _(answer):
    if not isinstance(answer, crontab):
        raise TypeError(say("exercise.16.2.type"))
    seen = periodic.runs_between(answer, "UTC", START_16_2, END_16_2)
    first = ", ".join(when.strftime("%m-%d %H:%M") for when in seen[:3])
    note = say("exercise16_runs", count=len(seen), start=START_16_2.strftime("%m-%d %H:%M"),
               end=END_16_2.strftime("%m-%d %H:%M"), first=first)
    return seen == _expected_16_2(), note
