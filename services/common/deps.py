"""FastAPI dependencies for the objects the app creates once at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.common.config import Settings
from services.common.db import Database
from services.common.jobs import JobRunner


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
