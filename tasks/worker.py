"""Entry module of the Dramatiq worker process (`dramatiq tasks.worker`)."""

from tasks.runtime import runtime
from web.composition import create_core_app

#: The app whose runtime (broker, adapters) the actors use: no pages, no API.
app = create_core_app()
broker = runtime(app).broker
