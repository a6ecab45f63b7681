"""What every lesson waits on purpose, in seconds: the floor of the benchmark (benchmarks/floor.py).

A deliberate wait is one a lesson needs to make its point: nap(1) tasks one after another, a countdown, a
retry's backoff, a time limit, a visibility timeout, the BRPOP that priorities.paused() waits out on Redis, a
worker restarted by reload_worker/kill_worker. Work that only takes as long as the machine needs (sending,
a worker's reply, the celery command line starting) is not in here.

WHEN A LESSON CHANGES, UPDATE ITS ENTRY: one (what, seconds) per waiting cell, the cell named in the comment
(its index in the notebook's "cells" list, then its code). Every notebook in notebooks/en must have an entry,
even an empty list (tests/test_benchmark_floor.py). The Russian twin has the same code, so each entry counts
for both languages. Waits that overlap in one cell (tasks of one group on the four processes of
worker@course) count once: the longest path through the cell.

The exercise cells only print "replace ..." under nbval (their `answer = ...` is unanswered), but
tests/test_exercises.py runs every stored solution live once (not once per language): EXERCISE_WAITS.
"""

# The course's own durations, as the modules define them (tests/test_benchmark_floor.py checks they still match).
TP = 0.25  # course_tasks/tasks.py TP_SECONDS: tp1..tp4
SQUARE = 0.25  # course_tasks/canvas_tasks.py SQUARE_SECONDS: square
CALL = 0.2  # course_tasks/retrying.py CALL_SECONDS: one call of flaky_service
RETRY = 0.5  # course_tasks/retrying.py RETRY_COUNTDOWN: fetch's self.retry(countdown=...)
VISIBILITY = 3  # course_tasks/delivery.py VISIBILITY_TIMEOUT (restored within unacked_restore_interval 1 s more)
SETUP_CHECK = 0.3  # course_tasks/preflight.py DUPLICATES_SECONDS: check_setup() waits this for a second reply
TIMEOUT_HINT = 0.5  # course_tasks/machinery/backend.py ASK_WORKERS_SECONDS: after a get() timeout, who consumes what
PAUSE_REDIS = 1.0 + 0.5  # priorities.paused() on Redis: kombu's brpop_timeout (1 s) + REDIS_MARGIN (0.5 s)
KILL_AFTER = 0.5  # course_tasks/faults.py: kill_worker/kill_pool_process(after=0.5), seconds into the task's run
# A worker restarted by the supervisor answers again after this long: the fastest "works again (N s after it
# stopped)" in the supervisor.log of test runs on a quiet machine (2026-11-21: 0.6 s; 0.6-4.3 s under load).
WORKER_RESTART = 0.6
# A lesson's own worker (lessons 15, 19, 20; course_tasks/lesson_workers.py) answers after this long:
# the fastest start measured on a quiet machine (1.04-1.18 s; 2-6 s under a load of 10-14); several started at once
# count once.
LESSON_WORKER_START = 1.0
SPIN = 0.25  # course_tasks/operations.py SPIN_SECONDS: one spin(SPIN), CPU-bound
SETTLE = 0.3  # course_tasks/operations.py SETTLE: running_and_reserved() waits for counts that stay the same
SOFT_SHUTDOWN = 2  # settings.LESSON_WORKERS soft@course: worker_soft_shutdown_timeout=2 (it waits all of it)
RESULT_EXPIRES = 2  # settings.LESSON_WORKERS results@course: result_expires=2
TICK = 1 / 5  # course_tasks/routing.py RATE: tick's rate_limit, 5 a second on each worker
ASK = 1.0  # course_tasks/routing.py ASK_SECONDS: consumers() gives every worker this long to answer
BEAT_EVERY = 2.0  # course_tasks/periodic.py EVERY: the interval of the schedule's every-2-seconds entries
BEAT_EXPIRES = 1.0  # course_tasks/periodic.py EXPIRES: the expires of every-2-seconds-expiring
STEP_PAUSE = 0.3  # course_tasks/monitoring.py STEP_PAUSE: progress() pauses between two steps of a crunch

WAITS = {
    "00_broker_worker_backend": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("app.control.ping(timeout=1.0): no destination, so it waits the whole second", 1.0),  # cell 18
    ],
    "01_delay_and_apply_async": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("tp1 (0.25 s), sent in cell 4, waited for in cell 5", TP),  # cells 4-5
        ("6 rounds of tp1..tp4 on worker@course's 4 processes", 6 * TP),  # cell 7: 24 tasks
        ("add.apply_async(countdown=1)", 1.0),  # cell 14
    ],
    "02_arguments_and_results": [
        ("check_setup(roles=main, priority)", SETUP_CHECK),  # cell 2 (one app: one check)
    ],
    "03_async_result": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("tp1 (0.25 s)", TP),  # cells 4-5
        ("stuck.get(timeout=1) on queue 'nobody', then the hint asks the workers", 1.0 + TIMEOUT_HINT),  # cell 25
    ],
    "04_group": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("group(tp1..tp4): one round", TP),  # cells 6-8
        ("group of 4 nap(1)", 1.0),  # cell 18 as_a_group
        ("loop of 4 nap(1), sent before the first wait", 1.0),  # cell 18 in_a_loop
        ("4 nap(1) one by one", 4.0),  # cell 18 one_by_one
    ],
    "05_map_starmap_chunks": [
        ("check_setup()", SETUP_CHECK),  # cell 2 (cell 20 times 500 add calls: work, not a wait)
    ],
    "06_chain": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("chain(tp1, tp2, tp3, tp4): one after another", 4 * TP),  # cells 21-23
    ],
    "07_priorities_redis": [
        ("check_setup(roles=main, priority)", SETUP_CHECK),  # cell 2
        ("paused(): waits out the worker's BRPOP", PAUSE_REDIS),  # cell 5
        ("paused(): waits out the worker's BRPOP", PAUSE_REDIS),  # cell 18
        ("nap(1) holds prio@course", 1.0),  # cell 27
    ],
    "08_priorities_rabbitmq": [
        ("check_setup(app, roles=rabbitmq)", SETUP_CHECK),  # cell 2 (paused() on RabbitMQ polls: no fixed wait)
        ("nap(1) holds the RabbitMQ worker", 1.0),  # cell 22
    ],
    "09_inspecting_workers": [
        ("check_setup(roles=main, priority)", SETUP_CHECK),  # cell 2
        ("inspect(destination=[nobody@course], timeout=0.5).ping()", 0.5),  # cell 17
        ("celery inspect ping --destination nobody@course: the CLI's 1 s timeout", 1.0),  # cell 19
        ("celery inspect active while nap(60) runs (revoked once seen): the CLI's start", 1.0),  # cell 21
        ("nap.apply_async(countdown=2), seen in scheduled()", 2.0),  # cell 24
    ],
    "10_your_own_task": [
        ("check_setup(roles=main, play): two apps, two checks", 2 * SETUP_CHECK),  # cell 2
        ("reload_worker('play')", WORKER_RESTART),  # cell 10
        ("reload_worker('play')", WORKER_RESTART),  # cell 23
    ],
    "11_retries": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("flaky_service called 3 times in the notebook", 3 * CALL),  # cell 4
        ("fetch(2): 3 calls, 2 retries", 3 * CALL + 2 * RETRY),  # cell 8
        ("fetch(3): 4 calls, 3 retries", 4 * CALL + 3 * RETRY),  # cell 10
        ("fetch(10) and fetch_without_exc(10) side by side: 4 calls, 3 retries", 4 * CALL + 3 * RETRY),  # cell 12
        ("fetch_auto(3): 4 calls, backoff 1 + 2 + 2 s", 4 * CALL + 1 + 2 + 2),  # cell 15
        ("fetch(10) with link_error: 4 calls, 3 retries", 4 * CALL + 3 * RETRY),  # cell 20
    ],
    "12_acks_and_delivery": [
        ("check_setup(roles=delivery)", SETUP_CHECK),  # cell 2
        ("nap_acked_early(1) killed 0.5 s in, worker restarted", KILL_AFTER + WORKER_RESTART),  # cell 7
        # cell 10
        ("nap_acked_late(1): visibility timeout, then the run again (the restart overlaps)", VISIBILITY + 1.0),
        ("nap_acked_late(1): pool process killed 0.5 s in", KILL_AFTER),  # cell 14
        ("nap_requeued(1): killed 0.5 s in, runs again", KILL_AFTER + 1.0),  # cell 17
        ("nap_retried(1): killed 0.5 s in, retried 1 s later, runs again", KILL_AFTER + 1.0 + 1.0),  # cell 19
        ("nap_acked_late(0.2, countdown=5): two runs on one process", 5.0 + 0.2 + 0.2),  # cell 21
        # the charge demo: charge works 1 s; the kill comes 0.5 s in, the run again after the visibility timeout
        ("charge('A-1001'): killed 0.5 s in, visibility timeout, charges again, works 1 s", VISIBILITY + 1.0),
        ("charge_once('A-1001'): the same kill, the second run charges nothing", VISIBILITY),
        ("charge_once('A-1002') twice, one process: the first works 1 s", 1.0),
    ],
    "13_time_limits_and_revoke": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("report_soft_limited(3): soft_time_limit=1", 1.0),  # cell 6
        ("report_hard_limited(3): time_limit=1", 1.0),  # cell 8
        ("4 nap(1.5) fill worker@course (expires=0.5 passes meanwhile)", 1.5),  # cell 10 (cell 12 revokes at once)
    ],
    "14_chord_and_callbacks": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("10 squares sent by the blocking task: 3 rounds on 4 processes", 3 * SQUARE),  # cells 5-7
        ("chord of 10 squares: 3 rounds", 3 * SQUARE),  # cell 9
        ("chord of square(2), divide(1, 0), square(3): one round", SQUARE),  # cell 13
        ("group of 10 squares | xsum: 3 rounds", 3 * SQUARE),  # cell 19
    ],
    "15_routing_and_dedicated_workers": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("slow@course and fast@course start", LESSON_WORKER_START),  # cell 4
        ("running_and_reserved() on fast@course", SETTLE),  # cell 6
        ("active_queues: every worker is given the whole second", ASK),  # cell 17
        ("one@course starts, 10 ticks at 5/s; one and two start, 20 ticks at 2 x 5/s",
         2 * LESSON_WORKER_START + 9 * TICK + 9 * TICK),  # cell 20
        ("one@course starts, settles; two@course starts, one@course settles again",
         2 * LESSON_WORKER_START + 2 * SETTLE),  # cell 23
        ("one@course starts, settles; two@course starts", 2 * LESSON_WORKER_START + SETTLE),  # cell 25
    ],
    "16_periodic_tasks": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("clock@course and beat start; three runs, the first one interval after the start",
         2 * LESSON_WORKER_START + 3 * BEAT_EVERY),  # cell 6
        ("beat stopped 7 s, started again; two runs, the second one interval after the first",
         7.0 + LESSON_WORKER_START + BEAT_EVERY),  # cell 9
        ("beat2 starts; 5 runs of two beats; 3 runs of one", LESSON_WORKER_START + 2 * BEAT_EVERY + 3 * BEAT_EVERY),
        # cell 12
        ("two runs of each entry wait; they get older than expires", BEAT_EVERY + BEAT_EXPIRES + 0.2),  # cell 15
    ],
    "17_progress_and_monitoring": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("watch@course starts", LESSON_WORKER_START),  # cell 4
        ("progress(): 4 steps, a pause between two", 3 * STEP_PAUSE),  # cell 4
    ],
    "18_testing_tasks": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("notify(7) on worker@course: 2 retries, 1 s apart", 2.0),  # cell 14
        ("total on queue 'nobody': get(timeout=1), then the hint asks the workers", 1.0 + TIMEOUT_HINT),  # cell 14
        ("run_tests: notify(7) on the embedded worker, 2 retries 1 s apart", 2.0),  # cell 20
    ],
    "19_operating_workers": [
        ("check_setup()", SETUP_CHECK),  # cell 2
        ("threads@course and solo@course start", LESSON_WORKER_START),  # cell 4
        ("8 nap(1) on threads@course at once, then on worker@course's 4 processes", 1.0 + 2.0),  # cell 6
        ("4 spins on threads@course, one at a time under the GIL, then on 2 cores", 4 * SPIN + 2 * SPIN),  # cell 8
        ("nap(1) on threads@course, solo@course and worker@course at once", 1.0),  # cell 10
        ("prefetch@course starts; running_and_reserved() on two workers", LESSON_WORKER_START + 2 * SETTLE),  # 13
        ("recycle@course and memory@course start", LESSON_WORKER_START),  # cell 16
        ("warm, cold and soft start; the soft shutdown waits its timeout", LESSON_WORKER_START + SOFT_SHUTDOWN),  # 19
        ("cold@course starts again and runs the nap it gave back", LESSON_WORKER_START + 1.0),  # cell 21
        ("results@course starts; its results expire", LESSON_WORKER_START + RESULT_EXPIRES),  # cell 24
    ],
    "20_tasks_and_your_database": [
        ("check_setup(); db@course starts", SETUP_CHECK + LESSON_WORKER_START),  # cell 2
        ("dbthreads@course and dbspawn@course start", LESSON_WORKER_START),  # cell 15
    ],
}

# The stored solutions, run once each by tests/test_exercises.py (the checker waits for what they send).
EXERCISE_WAITS = {
    "01.1": [("the checker's add.apply_async(countdown=0.5)", 0.5)],
    "01.2": [("tp4 on course.priority", TP)],
    "04.2": [("the checker's 6 nap(0.5) on 4 processes: 2 rounds", 2 * 0.5)],
    "06.2": [("tp1 | add.si(1, 1)", TP)],
    "07.1": [("the checker's paused()", PAUSE_REDIS)],
    "07.3": [("the solution's paused()", PAUSE_REDIS)],
    "09.2": [("nap(1)", 1.0)],
    "09.3": [("the checker's 6 nap(1) on 4 processes: 2 rounds", 2.0)],
    "10.2": [("reload_worker('play')", WORKER_RESTART)],
    "10.3": [("reload_worker('play')", WORKER_RESTART)],
    "11.1": [("the checker's fetch(4): 4 calls, 3 retries", 4 * CALL + 3 * RETRY)],
    "11.2": [("the checker's fetch(2) and fetch(10) side by side: 4 calls, 3 retries", 4 * CALL + 3 * RETRY)],
    "12.1": [("the checker's nap_acked_early(1): pool process killed 0.5 s in", KILL_AFTER)],
    "12.2": [("the checker's nap_retried(1): killed 0.5 s in, retried 1 s later, killed 0.5 s in",
              KILL_AFTER + 1.0 + KILL_AFTER)],
    # four send_email on one process: the first killed 0.5 s in, two more work 1 s, the first back after the timeout
    "12.3": [("the checker's send_email: a kill, the visibility timeout, two e-mails of 1 s", VISIBILITY + 2 * 1.0)],
    "13.1": [("nap(5) with soft_time_limit=1", 1.0)],
    "13.2": [("the checker's keep_working(3): time_limit=2", 2.0)],
    "13.3": [("the checker's add(countdown=2, expires=1): revoked at its ETA", 2.0)],
    "14.1": [("chord of 20 squares: 5 rounds on 4 processes", 5 * SQUARE)],
    "14.3": [("the checker's chord of nap(0.6), nap(0.2), nap(0.4)", 0.6)],
    "14.4": [("one round of the header; the checker waits for a second alert", SQUARE + 1.0)],
    "15.1": [("slow@course and fast@course start", LESSON_WORKER_START)],
    "15.2": [("slow@course and fast@course start", LESSON_WORKER_START)],
    "15.3": [("one@course starts, settles; two@course starts", 2 * LESSON_WORKER_START + SETTLE)],
    "17.1": [("watch@course starts", LESSON_WORKER_START)],
    "17.2": [("watch@course starts", LESSON_WORKER_START)],
    "19.1": [("prefetch@course starts; running_and_reserved()", LESSON_WORKER_START + SETTLE)],
    "19.2": [("recycle@course starts", LESSON_WORKER_START)],
    "19.3": [("soft@course starts; its soft shutdown waits 2 s", LESSON_WORKER_START + 2.0)],
    "20.1": [("dbthreads@course starts", LESSON_WORKER_START)],
    "20.2": [("db@course starts", LESSON_WORKER_START)],
}


def lesson_seconds(lesson):
    """The deliberate waits of one lesson (a notebook's name without .ipynb), in seconds."""
    return sum(seconds for _, seconds in WAITS[lesson])


def exercise_seconds():
    """The deliberate waits of every stored solution, run once, in seconds."""
    return sum(seconds for waits in EXERCISE_WAITS.values() for _, seconds in waits)
