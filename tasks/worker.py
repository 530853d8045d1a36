"""Entry module of the Dramatiq worker process (`dramatiq tasks.worker`)."""

from web import create_app

#: The app whose runtime (broker, adapters) the actors use.
app = create_app()
broker = app.extensions["agentdesk"].broker
