"""A zip of 1 GB of documents streamed by the portal: peak RSS growth of the server.

52 nominations with one 20 MiB document each (1040 MiB) are downloaded by a signed-in
staff member as the export zip of the filtered list. Local storage (default): the files
are hard links of one file, so the set-up takes no disk space or time. `--storage s3`:
a moto server in its own process holds one 20 MiB object that every document points to
(the zip reads it 52 times over HTTP, as it would read 52 objects). The portal runs under
gunicorn (one sync worker); its VmHWM is reset after a warm-up request and read after
the download. The client reads the stream in 1 MiB pieces and throws them away.

    .venv/bin/python bench/zip_memory.py [--files 52] [--file-mb 20] [--storage local|s3]
"""

from __future__ import annotations

import argparse
import hashlib
import os
import time
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path

import common


def set_up(settings: dict, root: Path, files: int, file_mb: int,
           s3: bool = False) -> tuple[int, str]:
    """Staff member, cycle, nominations and documents; returns (cycle id, e-mail)."""
    from sqlalchemy import insert

    from portal.accounts.models import Role, User, UserRole
    from portal.cycles.models import Cycle, CycleStatus, DocumentRequirement
    from portal.db import new_key, utcnow
    from portal.extensions import db
    from portal.institutions.models import Institution
    from portal.nominations.models import Nomination, NominationDocument
    from portal.storage.models import Blob

    source = root / "source.pdf"
    with source.open("wb") as f:  # incompressible, like the scans it stands for
        f.write(b"%PDF-1.7\n" + os.urandom(file_mb * 1024 * 1024 - 9))
    size = source.stat().st_size
    sha256 = hashlib.sha256(source.read_bytes()).hexdigest()

    app = common.make_app(settings)
    with app.app_context():
        db.create_all()
        now = utcnow()
        staff = User(email="staff@bench.example", name="Bench Staff", language="en",
                     password_hash=common.password_hash())
        staff.role_rows = [UserRole(role=str(Role.STAFF))]
        institution = Institution(name="Bench Hospital", country="MY", city="Kuala Lumpur",
                                  timezone="Asia/Kuala_Lumpur", head_name="Dr Head",
                                  head_email="head@bench.example")
        cycle = Cycle(name="FY-ZIP", status=CycleStatus.PUBLISHED,
                      opens_at=now - timedelta(days=10), closes_at=now - timedelta(days=1),
                      training_starts_on=(now + timedelta(days=100)).date(),
                      training_ends_on=(now + timedelta(days=200)).date())
        cycle.requirements = [DocumentRequirement(code="application", label="Application")]
        db.session.add_all([staff, institution, cycle])
        db.session.flush()
        if s3:
            from portal.storage import get_storage

            keys = [new_key()]
            with source.open("rb") as f:
                get_storage().put(f, keys[0], content_type="application/pdf")
        else:
            keys = [new_key() for _ in range(files)]
            for key in keys:
                target = root / "uploads" / key[:2] / key
                target.parent.mkdir(parents=True, exist_ok=True)
                os.link(source, target)
        blob_ids = db.session.execute(insert(Blob).returning(Blob.id), [
            {"key": k, "size": size, "sha256": sha256, "content_type": "application/pdf",
             "original_name": f"scan {i}.pdf", "created_at": now} for i, k in enumerate(keys)
        ]).scalars().all()
        blob_ids = [blob_ids[i % len(blob_ids)] for i in range(files)]
        nomination_ids = db.session.execute(insert(Nomination).returning(Nomination.id), [
            {"reference": f"N-ZIP{i:06d}", "cycle_id": cycle.id,
             "institution_id": institution.id, "country": "MY", "state": "submitted",
             "family_name": f"Candidate{i:03d}", "given_names": "Bench",
             "duplicate_flags": [], "is_complete": True, "created_at": now, "updated_at": now,
             "submitted_at": now} for i in range(files)
        ]).scalars().all()
        db.session.execute(insert(NominationDocument), [
            {"nomination_id": n, "requirement_id": cycle.requirements[0].id, "blob_id": b,
             "state": "uploaded", "uploaded_at": now}
            for n, b in zip(nomination_ids, blob_ids, strict=True)
        ])
        db.session.commit()
        result = cycle.id, staff.email
        db.session.remove()
        db.engine.dispose()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=52)
    parser.add_argument("--file-mb", type=int, default=20)
    parser.add_argument("--storage", choices=["local", "s3"], default="local")
    args = parser.parse_args()

    with ExitStack() as stack:
        tmp = stack.enter_context(common.workdir("zip"))
        settings = common.base_settings(f"sqlite:///{tmp / 'portal.db'}", tmp)
        if args.storage == "s3":
            s3 = stack.enter_context(common.moto_server())
            settings.update(STORAGE="s3", S3_BUCKET="portal-bench", S3_ENDPOINT_URL=s3.url,
                            S3_CREATE_BUCKET=True, S3_REGION="us-east-1",
                            S3_ACCESS_KEY_ID="bench", S3_SECRET_ACCESS_KEY="bench")
        cycle_id, email = set_up(settings, tmp, args.files, args.file_mb,
                                 s3=args.storage == "s3")
        expected = args.files * args.file_mb * 1024 * 1024
        print(f"{args.files} documents of {args.file_mb} MiB = {common.mb(expected):.0f} MiB "
              f"on {args.storage} storage; "
              f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
        with common.gunicorn(settings, log=tmp / "gunicorn.log") as server:
            worker = common.worker_pid(server.proc.pid)
            session = common.sign_in(server.url, email)
            session.get(f"{server.url}/staff/nominations/?cycle={cycle_id}", timeout=60)
            common.reset_peak(worker)
            baseline = common.memory_kb(worker)["VmRSS"]

            started = time.perf_counter()
            response = session.get(f"{server.url}/staff/nominations/export.zip",
                                   params={"cycle": cycle_id}, stream=True, timeout=600)
            response.raise_for_status()
            received, tail, first_byte = 0, b"", None
            for piece in response.iter_content(1024 * 1024):
                if first_byte is None:
                    first_byte = time.perf_counter() - started
                received += len(piece)
                tail = (tail + piece)[-65536:]
            elapsed = time.perf_counter() - started
            after = common.memory_kb(worker)

    complete = b"PK\x05\x06" in tail  # the end-of-central-directory record came through
    print(f"zip: {common.mb(received):.0f} MiB in {elapsed:.1f} s "
          f"({common.mb(received) / elapsed:.0f} MiB/s), first byte after "
          f"{first_byte * 1000:.0f} ms (the audit rows are committed before it); "
          f"archive complete: {complete}")
    print(f"portal worker RSS: baseline {baseline / 1024:.1f} MB, peak "
          f"{after['VmHWM'] / 1024:.1f} MB, growth {(after['VmHWM'] - baseline) / 1024:.1f} MB"
          f" (goal < 50 MB)")


if __name__ == "__main__":
    main()
