"""``python -m course_tasks COMMAND``: start the course, run one service, check the setup, test, refresh.

    up [--flower] [--no-jupyter]   broker (the embedded one if none answers) + workers + celery beat + JupyterLab
    worker ROLE [CELERY ARGS]      one worker: main, priority, play, delivery, rabbitmq ... (settings.roles());
                                   more arguments go to its celery command (a lesson's exercise: --concurrency 2)
    beat ROLE                      one celery beat: beat (the course's, which up starts), beat1, beat2 (lesson 16
                                   starts those itself, from its notebook)
    jupyter | flower               one service, as docker-compose.yml runs it (JupyterLab on my-notebooks/)
    reset LESSON [--lang en|ru]    start a lesson over: a fresh copy in my-notebooks/ (yours kept aside)
    check [ROLE ...]               is the broker there, are the workers and celery beat answering? (5 s at most)
    test [PYTEST ARGS]             unit tests + strict nbval of every lesson against live workers
    refresh [NOTEBOOK ...]         re-execute lessons with papermill and store their new outputs
    site [--out DIR]               the course as a static website in _site/, from the stored outputs
    slides LESSON ... [--lang en|ru]  lessons as reveal.js slides with their stored outputs (_slides/), offline

A command imports what it needs when it runs (the launcher, pytest, papermill): ``worker`` starts at once.
"""
import argparse
import os
import signal
import sys
from pathlib import Path

from . import settings
from .i18n import language
from .machinery import copies
from .machinery.services import ROOT
from .machinery.url_check import startup_problem


def cmd_role(args):
    """Run the process of a role (``worker main``; another kind of settings.roles(), e.g. ``beat NAME``, says that it
    runs by a key in the course's Redis: machinery/presence.py, since it answers no ping)."""
    role = settings.roles()[args.role]
    if role.kind == "worker":  # the last of two same options wins, as does the last name=value
        os.execv(sys.executable, [sys.executable, "-m", "celery", *role.argv(), *args.extra])
    from celery.bin.celery import main as celery

    from .machinery import presence
    from .machinery.probes import redis_client

    presence.keep_alive(redis_client(settings.result_backend()), role.name)
    sys.argv = ["celery", *role.argv()]
    return celery()


def jupyter_argv(lang=None):
    """``jupyter lab`` as the course runs it: on the learner's copies (my-notebooks/), opening on lesson 00 in
    their language, its menus in that language too, no browser of its own, no news pop-up, no update check (it would
    fetch from the Internet). The settings are defaults: what a learner sets in JupyterLab still wins."""
    lang = lang or language()
    ip = os.environ.get("COURSE_JUPYTER_IP", "127.0.0.1")
    argv = [sys.executable, "-m", "jupyter", "lab", f"--ServerApp.ip={ip}",
            f"--ServerApp.port={os.environ.get('COURSE_JUPYTER_PORT', '8888')}",
            f"--ServerApp.root_dir={copies.COPIES}", "--no-browser",
            f"--LabApp.default_url=/lab/tree/{copies.first_lesson(lang)}",
            "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            # overrides.json: JupyterLab's menus in the course's language, no news pop-up, RISE slides that scroll
            f"--LabApp.app_settings_dir={Path(__file__).parent / 'machinery' / 'lab_settings' / lang}",
            f"--LabApp.workspaces_dir={ROOT / '.course' / 'workspaces'}"]  # the course's open tabs, not other labs'
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        argv.append("--allow-root")  # containers run as root; the token still guards the server
    return argv


def cmd_jupyter(args):
    copies.ensure()  # lessons added by a course update get a copy; existing copies are left as they are
    argv = jupyter_argv()
    os.execv(argv[0], argv)


def cmd_reset(args):
    return copies.reset(args.lesson, [args.lang] if args.lang else copies.LANGUAGES)


def cmd_flower(args):
    """Flower on COURSE_FLOWER_ADDRESS:COURSE_FLOWER_PORT. The one lesson 17 starts (machinery/lesson_flower.py) runs
    in this process, beside a thread that ends it with its setup; any other replaces this process."""
    address = os.environ.get("COURSE_FLOWER_ADDRESS", "127.0.0.1")
    port = os.environ.get("COURSE_FLOWER_PORT", "5555")
    argv = ["celery", "-A", "course_tasks", "flower", f"--address={address}", f"--port={port}"]
    from .machinery import lesson_flower

    if lesson_flower.OWNER not in os.environ:
        os.execv(sys.executable, [sys.executable, "-m", *argv])
    from celery.bin.celery import main as celery

    lesson_flower.watch()
    sys.argv = argv
    return celery()


def cmd_check(args):
    from .preflight import SetupError, check_setup

    try:
        check_setup(roles=args.roles)
    except SetupError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def cmd_up(args):
    from .machinery.launcher import up

    return up(flower=args.flower, jupyter=not args.no_jupyter)


def cmd_test(args):
    import pytest

    return pytest.main(["-p", "no:cacheprovider", *args.pytest_args])


def cmd_refresh(args):
    from .machinery.refresh import refresh

    return refresh(args.notebooks)


def cmd_site(args):
    from .machinery.site import main

    return main(Path(args.out))


def cmd_slides(args):
    from .machinery.slides import slides

    return slides(args.lessons, [args.lang] if args.lang else ["en", "ru"])


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_tasks", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("up", help="start everything for learning")
    p.add_argument("--flower", action="store_true", help="also start Flower on 127.0.0.1:5555")
    p.add_argument("--no-jupyter", action="store_true", help="broker and workers only")
    p.set_defaults(func=cmd_up)
    for kind in sorted({role.kind for role in settings.roles().values()}):
        p = sub.add_parser(kind, help=f"run one {kind} of the course")
        p.add_argument("role", choices=sorted(name for name, role in settings.roles().items() if role.kind == kind))
        p.set_defaults(func=cmd_role)
    sub.add_parser("jupyter", help="run JupyterLab on your copies of the lessons (my-notebooks/)").set_defaults(
        func=cmd_jupyter)
    p = sub.add_parser("reset", help="start a lesson over: a fresh copy of it in my-notebooks/ (yours kept aside)")
    p.add_argument("lesson", help="the lesson's number, e.g. 04")
    p.add_argument("--lang", choices=["en", "ru"], help="only this language's copy (default: both)")
    p.set_defaults(func=cmd_reset)
    sub.add_parser("flower", help="run Flower").set_defaults(func=cmd_flower)
    p = sub.add_parser("check", help="check the broker, the workers and celery beat")
    p.add_argument("roles", nargs="*", default=["main", "priority", "beat"])
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("test", help="run every test (arguments go to pytest)")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("refresh", help="re-execute notebooks and store their outputs")
    p.add_argument("notebooks", nargs="*")
    p.set_defaults(func=cmd_refresh)
    p = sub.add_parser("site", help="build the course's website into _site/ (nothing is executed)")
    p.add_argument("--out", default=str(ROOT / "_site"), help="the folder to build it in (emptied first)")
    p.set_defaults(func=cmd_site)
    p = sub.add_parser("slides", help="export lessons as slides with their stored outputs, nothing executed")
    p.add_argument("lessons", nargs="+", help='lesson numbers or names, e.g. 04 12, or "all"')
    p.add_argument("--lang", choices=["en", "ru"], help="only this language (default: both)")
    p.set_defaults(func=cmd_slides)
    args, extra = parser.parse_known_args(argv)
    if args.command not in ("test", "worker") and extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = args.extra = extra
    sys.stdout.reconfigure(line_buffering=True)  # progress lines show at once, in a terminal or a pipe
    problem = None if args.command == "site" else startup_problem(args.command)
    if problem:  # a malformed or unusable URL: one line naming it and the fix, not a traceback later
        print(problem, file=sys.stderr)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # stop children on TERM as on Ctrl-C
    # Ctrl-C stops us even when started in the background by a shell that ignores SIGINT for its jobs
    # (Python keeps an inherited SIG_IGN).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    return args.func(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:  # Ctrl-C before a command had set up its own stop (in its first moments)
        sys.exit(130)
