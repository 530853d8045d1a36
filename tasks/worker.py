"""Entry module of the Dramatiq worker process (`dramatiq tasks.worker`)."""

from tasks.logs import configure_logging
from tasks.runtime import runtime
from web.composition import create_core_app

# Dramatiq has set up the pipe to its parent process; its lines become JSON.
configure_logging()
#: The app whose runtime (broker, adapters) the actors use: no pages, no API.
app = create_core_app()
broker = runtime(app).broker
