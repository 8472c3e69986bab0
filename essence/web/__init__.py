"""The essence web app: FastAPI pages (Jinja2 + htmx) and the JSON API under /api/v1.

Start it with `essence web`; build it in code with `essence.web.app.create_app()`.
"""
