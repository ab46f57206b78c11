"""Mail sorting over HTTP: tokens, roles, raw and JSON mail, review and correction."""

from __future__ import annotations

from email.message import EmailMessage

from credentials import bearer_for
from fastapi.testclient import TestClient

from services.common import auth
from services.common.config import Settings


def _headers(settings: Settings) -> dict[auth.Role, dict[str, str]]:
    return {
        role: bearer_for(settings, f"mail-{role.value}", role)
        for role in (auth.Role.MEDARBEJDER, auth.Role.IT)
    }


def test_route_review_and_correct_over_http(client: TestClient, settings: Settings) -> None:
    headers = _headers(settings)
    staff, it = headers[auth.Role.MEDARBEJDER], headers[auth.Role.IT]
    assert client.post("/api/mail/route", json={"subject": "x", "body": "y"}).status_code == 401

    routed = client.post(
        "/api/mail/route",
        json={
            "from": "Bo <bo@example.dk>",
            "to": "post@kommune.dk",
            "subject": "Storskrald",
            "body": "Hvornår bliver der hentet storskrald på Kirkevej? Jeg har et gammelt køleskab.",
        },
        headers=staff,
    )
    assert routed.status_code == 200, routed.text
    body = routed.json()
    assert body["queue"] == "teknik-miljoe" and len(body["suggestions"]) == 3

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "a@example.dk", "it@kommune.dk", "Nyt password"
    message.set_content("Jeg er låst ude af min pc efter ferien og skal have nulstillet mit password.")
    raw = client.post("/api/mail/route/raw", content=bytes(message), headers=staff)
    assert raw.status_code == 200 and raw.json()["queue"] == "it-support"
    assert client.post("/api/mail/route/raw", content=b"", headers=staff).status_code == 422

    # Only IT (and admin) see the mails and correct routings.
    assert client.get("/api/mail/review", headers=staff).status_code == 403
    assert (
        client.post(
            f"/api/mail/mails/{body['id']}/queue", json={"queue": "oekonomi"}, headers=staff
        ).status_code
        == 403
    )
    corrected = client.post(f"/api/mail/mails/{body['id']}/queue", json={"queue": "oekonomi"}, headers=it)
    assert corrected.status_code == 200 and corrected.json()["final_queue"] == "oekonomi"
    assert (
        client.post("/api/mail/mails/findesikke/queue", json={"queue": "oekonomi"}, headers=it).status_code
        == 404
    )
    assert {m["id"] for m in client.get("/api/mail/mails", headers=it).json()} >= {
        body["id"],
        raw.json()["id"],
    }
    assert [m["active"] for m in client.get("/api/mail/models", headers=it).json()] == [True]
    assert len(client.get("/api/mail/queues", headers=staff).json()) == 10


def test_retrain_without_promotion_then_promote_over_http(client: TestClient, settings: Settings) -> None:
    headers = _headers(settings)
    staff, it = headers[auth.Role.MEDARBEJDER], headers[auth.Role.IT]
    client.get("/api/mail/queues", headers=it)  # the first model is trained when it is first needed
    [first] = client.get("/api/mail/models", headers=it).json()
    assert client.post("/api/mail/models/retrain?promote=false", headers=staff).status_code == 403

    report = client.post("/api/mail/models/retrain?promote=false", headers=it)
    assert report.status_code == 200, report.text
    body = report.json()
    assert body["promoted"] is False and body["current"] == first["version"]
    assert {"recommended", "holdout", "candidate_metrics", "current_metrics", "reason"} <= set(body)
    models = {m["version"]: m for m in client.get("/api/mail/models", headers=it).json()}
    candidate = models[body["candidate"]]
    assert not candidate["active"] and candidate["activated_at"] is None
    assert candidate["comparison"]["current_version"] == first["version"]

    promote = f"/api/mail/models/{body['candidate']}/promote"
    assert client.post(promote, headers=staff).status_code == 403
    refused = client.post(promote, headers=it)
    assert refused.status_code == 409 and "Bekræft" in refused.json()["detail"]
    promoted = client.post(f"{promote}?confirm_worse=true", headers=it)
    assert promoted.status_code == 200 and promoted.json()["active"] is True

    # a model that routed mail is kept; a fresh candidate can be thrown away
    assert client.delete(f"/api/mail/models/{first['version']}", headers=it).status_code == 409
    second = client.post("/api/mail/models/retrain?promote=false", headers=it).json()["candidate"]
    assert client.delete(f"/api/mail/models/{second}", headers=staff).status_code == 403
    assert client.delete(f"/api/mail/models/{second}", headers=it).status_code == 204
    assert client.delete(f"/api/mail/models/{second}", headers=it).status_code == 404
