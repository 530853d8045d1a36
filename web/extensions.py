"""Flask extensions, created once and bound in `create_app`."""

from __future__ import annotations

from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from workflow.models import Base

# Sessions live for one request or one message; keeping loaded values after a commit
# saves a reload per object, and every decision re-checks state with a compare-and-set.
db = SQLAlchemy(metadata=Base.metadata, session_options={"expire_on_commit": False})
migrate = Migrate()
login_manager = LoginManager()
