"""`dialer db migrate|status`: apply migrations and show the database and Redis state."""

from __future__ import annotations

import argparse
from typing import Any

from cli.context import run_async
from cli.output import emit, info
from config import Settings
from storage import migrations, redis_keys
from storage.runtime import open_storage


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = sub.add_parser("db", help="database migrations and status")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    migrate = actions.add_parser("migrate", help="apply pending migrations (re-running is a no-op)")
    migrate.add_argument("--json", action="store_true", help="print one JSON object")
    migrate.set_defaults(handler=run_migrate)
    status = actions.add_parser("status", help="applied and pending migrations, Redis health")
    status.add_argument("--json", action="store_true", help="print one JSON object")
    status.set_defaults(handler=run_status)


def run_migrate(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> dict[str, Any]:
        async with open_storage(settings, with_redis=False, migrate=False) as storage:
            async with storage.pool.acquire() as conn:
                applied = await migrations.migrate(conn)
            return {"database": storage.database_label, "applied": [m.path.name for m in applied]}

    report = run_async(main)
    if not report["applied"]:
        info("database is up to date")
    emit(report, as_json=args.json)
    return 0


def run_status(args: argparse.Namespace, settings: Settings) -> int:
    async def main() -> dict[str, Any]:
        async with open_storage(settings, migrate=False) as storage:
            async with storage.pool.acquire() as conn:
                rows = await migrations.status(conn)
            assert storage.redis is not None
            await storage.redis.set(redis_keys.HEALTH_KEY, "ok", ex=60)
            return {
                "database": storage.database_label,
                "redis": storage.redis_label,
                "redis_ok": await storage.redis.get(redis_keys.HEALTH_KEY) == "ok",
                "migrations": [
                    {
                        "version": r.version,
                        "name": r.name,
                        "applied_at": r.applied_at,
                        "changed_since_applied": r.changed_since_applied,
                    }
                    for r in rows
                ],
                "pending": [r.version for r in rows if r.applied_at is None],
            }

    report = run_async(main)
    emit(report, as_json=args.json)
    return 1 if any(m["changed_since_applied"] for m in report["migrations"]) else 0
