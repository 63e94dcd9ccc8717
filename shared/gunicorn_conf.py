"""gunicorn settings of every web process: ``gunicorn -c python:shared.gunicorn_conf ...``.

* gunicorn's own lines (its error log) in the same JSON as the application's
  (:mod:`shared.logs`), ``THIDUA_SERVICE`` naming the service. gunicorn writes no access
  line: the application writes one per request with more in it (province, correlation id,
  trace, duration), and gunicorn's would repeat it — and building it cost a tenth of a
  request's CPU, since a ``logconfig_dict`` switches gunicorn's access log on;
* a shorter GIL switch interval in each worker (:func:`shared.service.shorten_gil_switch`);
* prometheus-client's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is set: the
  folder is emptied when gunicorn starts (counts of an earlier run must not be added in)
  and a worker that exits is marked dead (its gauges dropped, its counters kept).
"""
import os
import shutil
from pathlib import Path

from gunicorn.glogging import Logger

_format = "shared.logs.TextFormatter" if os.environ.get("LOG_FORMAT") == "text" else "shared.logs.JsonFormatter"

logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"structured": {"()": _format}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "structured",
                            "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": []},  # the app's own handler comes with create_app()
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


class NoAccessLogger(Logger):
    def _compute_access_log_enabled(self):
        return False


logger_class = NoAccessLogger


def on_starting(server):
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        shutil.rmtree(folder, ignore_errors=True)
        Path(folder).mkdir(parents=True, exist_ok=True)


def post_fork(server, worker):
    from shared.service import shorten_gil_switch
    shorten_gil_switch()


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(worker.pid)
