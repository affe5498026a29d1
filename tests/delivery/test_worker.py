"""The worker: leases after a crash, racing workers, the command line, shutdown on signals."""

from __future__ import annotations

import os
import signal
import threading
from collections import Counter
from datetime import timedelta

import pytest
from flask import Flask

from app.delivery import worker as worker_module
from app.delivery.models import Delivery, DeliveryState
from app.delivery.worker import Worker, claim_due, connect_round_task, process_due, worker_round
from app.extensions import db
from app.timeutil import utcnow
from delivery.builders import Channels, submit
from delivery.conftest import WEBHOOK_SECRET
from delivery.servers import HttpRecorder, SmtpRecorder


def _reload(delivery: Delivery) -> Delivery:
    db.session.expire_all()
    fresh = db.session.get(Delivery, delivery.id)
    assert fresh is not None
    return fresh


def _both(receiver: HttpRecorder) -> Channels:
    return Channels(deliver_by_email=True, webhook_url=receiver.url, webhook_secret=WEBHOOK_SECRET)


def test_a_worker_killed_after_claiming_leaves_the_row_to_another_after_the_lease(
    delivery_settings: Flask, smtp_server: SmtpRecorder, webhook_receiver: HttpRecorder
) -> None:
    _, deliveries = submit(_both(webhook_receiver))
    now = utcnow()

    # Worker A claims both rows and dies before sending anything.
    assert len(claim_due(now=now, worker="worker-a")) == 2
    held = _reload(deliveries[0])
    assert held.state is DeliveryState.SENDING
    assert held.claimed_by and held.claimed_by.startswith("worker-a:")

    # While the lease holds, worker B leaves the rows alone.
    assert process_due(now=now + timedelta(minutes=5), worker="worker-b") == []

    after_lease = now + timedelta(seconds=601)
    outcomes = process_due(now=after_lease, worker="worker-b")

    assert sorted(o.state for o in outcomes) == [DeliveryState.DELIVERED] * 2
    assert len(smtp_server.wait_for(1)) == 1
    assert len(webhook_receiver.wait_for(1)) == 1
    assert process_due(now=after_lease + timedelta(hours=2), worker="worker-c") == []
    for delivery in deliveries:
        stored = _reload(delivery)
        assert stored.state is DeliveryState.DELIVERED
        assert stored.attempts == 2  # the attempt of the crashed worker counts


def test_a_worker_killed_after_sending_causes_a_resend_the_receiver_can_recognise(
    delivery_settings: Flask,
    smtp_server: SmtpRecorder,
    webhook_receiver: HttpRecorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, deliveries = submit(_both(webhook_receiver))
    now = utcnow()

    def killed(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    with monkeypatch.context() as patched:
        patched.setattr(worker_module, "_record_success", killed)
        with pytest.raises(KeyboardInterrupt):
            process_due(now=now, worker="worker-a", limit=1)
        with pytest.raises(KeyboardInterrupt):
            process_due(now=now, worker="worker-a", limit=1)

    process_due(now=now + timedelta(seconds=601), worker="worker-b")

    mails = smtp_server.wait_for(2)
    hooks = webhook_receiver.wait_for(2)
    assert len(mails) == 2 and len(hooks) == 2
    # At least once on the wire, exactly once after de-duplication by key.
    assert len({m.message["Message-ID"] for m in mails}) == 1
    assert len({h.headers["idempotency-key"] for h in hooks}) == 1
    assert all(_reload(d).state is DeliveryState.DELIVERED for d in deliveries)


def test_racing_workers_send_each_delivery_exactly_once(
    delivery_settings: Flask, smtp_server: SmtpRecorder, webhook_receiver: HttpRecorder
) -> None:
    for _ in range(15):
        submit(_both(webhook_receiver))
    app = delivery_settings
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(name: str) -> None:
        try:
            with app.app_context():
                start.wait()
                while process_due(worker=name, limit=3):
                    pass
        except BaseException as exc:  # the main thread reports it
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(f"worker-{n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    mails = smtp_server.wait_for(15)
    hooks = webhook_receiver.wait_for(15)
    assert len(mails) == 15
    assert len(hooks) == 15
    assert max(Counter(m.message["Message-ID"] for m in mails).values()) == 1
    assert max(Counter(h.headers["idempotency-key"] for h in hooks).values()) == 1
    states = db.session.scalars(db.select(Delivery.state)).all()
    assert Counter(states) == {DeliveryState.DELIVERED: 30}
    assert set(db.session.scalars(db.select(Delivery.attempts))) == {1}


def test_work_once_processes_what_is_due_and_exits(
    delivery_settings: Flask, smtp_server: SmtpRecorder, webhook_receiver: HttpRecorder
) -> None:
    submit(_both(webhook_receiver))
    submit(_both(webhook_receiver))

    result = delivery_settings.test_cli_runner().invoke(
        args=["deliveries", "work", "--once", "--batch-size", "3"]
    )

    assert result.exit_code == 0, result.output
    assert "4 delivery attempt(s) made." in result.output
    assert len(smtp_server.wait_for(2)) == 2
    assert len(webhook_receiver.wait_for(2)) == 2
    assert set(db.session.scalars(db.select(Delivery.state))) == {DeliveryState.DELIVERED}


def test_list_and_retry_commands_show_and_requeue_a_failed_delivery(
    delivery_settings: Flask, webhook_receiver: HttpRecorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(delivery_settings.config, "DELIVERY_MAX_ATTEMPTS", 1)
    submission, [delivery] = submit(
        Channels(deliver_by_email=False, webhook_url=webhook_receiver.url, webhook_secret=WEBHOOK_SECRET)
    )
    webhook_receiver.fail_next(1, status=503)
    process_due()
    runner = delivery_settings.test_cli_runner()

    listed = runner.invoke(args=["deliveries", "list", "--state", "failed"])
    assert listed.exit_code == 0
    assert submission.reference in listed.output
    assert "HTTP 503" in listed.output

    retried = runner.invoke(args=["deliveries", "retry", str(delivery.id)])
    assert retried.exit_code == 0, retried.output
    assert _reload(delivery).state is DeliveryState.PENDING
    assert _reload(delivery).retried_by == "cli"

    again = runner.invoke(args=["deliveries", "retry", "999999"])
    assert again.exit_code != 0
    assert "cannot be retried" in again.output


def test_work_stops_cleanly_on_sigterm(delivery_settings: Flask) -> None:
    worker = Worker(poll_seconds=0.05, batch_size=5)
    rounds = threading.Event()

    def note_round(app: Flask) -> None:
        rounds.set()

    connect_round_task(note_round)

    def terminate() -> None:
        rounds.wait(5)
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    killer = threading.Thread(target=terminate)
    killer.start()
    try:
        worker.run_forever()
    finally:
        killer.join()
        worker_round.disconnect(note_round)

    assert worker.stopping.is_set()
    assert signal.getsignal(signal.SIGTERM) is before


def test_round_tasks_run_before_each_round_and_their_errors_do_not_stop_it(
    delivery_settings: Flask, smtp_server: SmtpRecorder
) -> None:
    seen: list[Flask] = []

    def broken(app: Flask) -> None:
        raise RuntimeError("renderer down")

    def note(app: Flask) -> None:
        seen.append(app)

    connect_round_task(broken)
    connect_round_task(note)
    try:
        submit(Channels(deliver_by_email=True))
        outcomes = Worker(poll_seconds=1, batch_size=5).run_round()
    finally:
        worker_round.disconnect(broken)
        worker_round.disconnect(note)

    assert seen == [delivery_settings]
    assert [o.state for o in outcomes] == [DeliveryState.DELIVERED]
