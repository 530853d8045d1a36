"""The WSGI entry for gunicorn (`web.wsgi:app`): the app behind the access log, in JSON lines."""

import logging

from tasks.logs import configure_logging
from web import create_app
from web.access_log import ACCESS_LOGGER, AccessLog

configure_logging(logging.WARNING)
for _name in (ACCESS_LOGGER, "tasks", "web", "workflow"):
    logging.getLogger(_name).setLevel(logging.INFO)

#: What gunicorn serves.
app = AccessLog(create_app())
