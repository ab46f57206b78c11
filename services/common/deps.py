"""FastAPI dependencies for the objects the app creates once at start-up."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from services.common.config import Settings
from services.common.db import Database
from services.common.jobs import JobRunner


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_db(request: Request) -> Database:
    return request.app.state.db


def get_runner(request: Request) -> JobRunner:
    return request.app.state.runner


# The largest id an ``Integer`` primary key holds on PostgreSQL; a larger one (or one past SQLite's 64 bits,
# which the driver cannot even bind) would reach the database as a server error instead of a 422.
MAX_ROW_ID = 2**31 - 1

SettingsDep = Annotated[Settings, Depends(get_settings)]
DatabaseDep = Annotated[Database, Depends(get_db)]
RunnerDep = Annotated[JobRunner, Depends(get_runner)]
RowIdPath = Annotated[int, Path(ge=1, le=MAX_ROW_ID, description="A row id (1 to 2147483647).")]
