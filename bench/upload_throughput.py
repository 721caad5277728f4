"""20 uploads of a 20 MB scanned PDF through the portal vs direct boto3 puts.

Both go to the same S3 endpoint (a moto server in its own process). The portal runs
under gunicorn (one sync worker) on S3 storage; each upload goes through the workspace's
upload endpoint (POST /nominations/<id>/documents/<requirement>, multipart form, the
content checks included), as a nominator signed in through the login form.

Prints: seconds per upload both ways, throughput ratio (portal / direct; goal >= 0.7)
and the peak RSS growth of the portal's worker process (goal < 50 MB).

    .venv/bin/python bench/upload_throughput.py [--uploads 20] [--size-mb 20]
"""

from __future__ import annotations

import argparse
import io
import os
import time
from datetime import timedelta
from pathlib import Path

import boto3
import common
from botocore.config import Config

BUCKET = "portal-bench"
CACHE = Path("/tmp/portal-bench-cache")


def scanned_pdf(size_mb: float) -> Path:
    """A PDF of grey 'scanned' A4 pages at 200 dpi (JPEG in the PDF, as scanners make
    them) of at least size_mb; cached between runs."""
    from PIL import Image

    CACHE.mkdir(exist_ok=True)
    path = CACHE / f"scan-{size_mb:g}mb.pdf"
    if path.exists():
        return path
    page = Image.effect_noise((1654, 2339), 40).convert("L")
    one = io.BytesIO()
    page.save(one, "JPEG", quality=90)
    pages = max(1, round(size_mb * 1024 * 1024 / len(one.getvalue())))
    images = [Image.effect_noise((1654, 2339), 40 + i % 7).convert("L") for i in range(pages)]
    images[0].save(path, "PDF", save_all=True, append_images=images[1:], resolution=200,
                   quality=90)
    return path


def set_up(settings: dict) -> tuple[str, str]:
    """A nominator with a draft nomination; returns (upload URL, e-mail)."""
    from portal.accounts.models import Role, User, UserRole
    from portal.cycles.models import Cycle, CycleStatus, DocumentRequirement
    from portal.db import utcnow
    from portal.extensions import db
    from portal.institutions.models import Institution
    from portal.nominations.models import Nomination, NominationState

    app = common.make_app(settings)
    with app.app_context():
        db.create_all()
        now = utcnow()
        institution = Institution(name="Bench Hospital", country="MY", city="Kuala Lumpur",
                                  timezone="Asia/Kuala_Lumpur", head_name="Dr Head",
                                  head_email="head@bench.example")
        db.session.add(institution)
        db.session.flush()
        user = User(email="nominator@bench.example", name="Bench Nominator", language="en",
                    password_hash=common.password_hash(), institution_id=institution.id)
        user.role_rows = [UserRole(role=str(Role.NOMINATOR))]
        cycle = Cycle(name="FY-BENCH", status=CycleStatus.PUBLISHED,
                      opens_at=now - timedelta(days=1), closes_at=now + timedelta(days=30),
                      training_starts_on=(now + timedelta(days=100)).date(),
                      training_ends_on=(now + timedelta(days=200)).date())
        cycle.requirements = [DocumentRequirement(code="application", label="Application",
                                                  accepted_types=["pdf"], max_size_mb=25)]
        db.session.add_all([user, cycle])
        db.session.flush()
        nomination = Nomination(reference="N-BENCH0001", cycle_id=cycle.id,
                                institution_id=institution.id, country="MY",
                                state=NominationState.DRAFT, family_name="Bench",
                                duplicate_flags=[])
        db.session.add(nomination)
        db.session.commit()
        url = f"/nominations/{nomination.id}/documents/{cycle.requirements[0].id}"
        has_route = "nominations.upload" in app.view_functions
        email = user.email
        db.session.remove()
        db.engine.dispose()
    return (url if has_route else "/bench/upload"), email


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--uploads", type=int, default=20)
    parser.add_argument("--size-mb", type=float, default=20)
    args = parser.parse_args()

    pdf = scanned_pdf(args.size_mb)
    size = pdf.stat().st_size
    print(f"file: {pdf.name}, {common.mb(size):.1f} MB; {args.uploads} uploads each way; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")

    with common.workdir("upload") as tmp, common.moto_server() as s3:
        settings = common.base_settings(
            f"sqlite:///{tmp / 'portal.db'}", tmp, STORAGE="s3", S3_BUCKET=BUCKET,
            S3_ENDPOINT_URL=s3.url, S3_CREATE_BUCKET=True, S3_REGION="us-east-1",
            S3_ACCESS_KEY_ID="bench", S3_SECRET_ACCESS_KEY="bench",
        )
        url, email = set_up(settings)
        if url == "/bench/upload":
            print("NOTE: nominations.upload is missing; using the stand-in route "
                  "(store_upload) of bench/bench_server.py")

        client = boto3.client("s3", endpoint_url=s3.url, region_name="us-east-1",
                              aws_access_key_id="bench", aws_secret_access_key="bench",
                              config=Config(s3={"addressing_style": "path"}))
        client.create_bucket(Bucket=BUCKET)

        def direct(i: int) -> float:
            """boto3 as a program would use it: one PUT per file."""
            with pdf.open("rb") as f:
                started = time.perf_counter()
                client.put_object(Bucket=BUCKET, Key=f"direct-{i}", Body=f,
                                  ContentType="application/pdf")
                return time.perf_counter() - started

        with common.gunicorn(settings, log=tmp / "gunicorn.log") as server:
            worker = common.worker_pid(server.proc.pid)
            session = common.sign_in(server.url, email)

            def upload() -> float:
                with pdf.open("rb") as f:
                    started = time.perf_counter()
                    response = session.post(
                        server.url + url, files={"file": (pdf.name, f, "application/pdf")},
                        allow_redirects=False, timeout=600)
                    elapsed = time.perf_counter() - started
                if response.status_code not in (200, 201, 303):
                    raise SystemExit(f"upload failed: {response.status_code} "
                                     f"{response.text[:300]}")
                return elapsed

            def upload_in_parts(n: int) -> float:
                """The browser's way for files over 5 MB: resumable parts (uploads.js)."""
                started = time.perf_counter()
                response = session.post(server.url + url + "/uploads", timeout=60, data={
                    "filename": pdf.name, "size": size, "fingerprint": f"bench-{n}"})
                if response.status_code != 201:
                    raise SystemExit(f"start failed: {response.status_code} "
                                     f"{response.text[:300]}")
                plan = response.json()
                with pdf.open("rb") as f:
                    for number in range(1, plan["part_count"] + 1):
                        part = session.put(server.url + plan["part_url"] + str(number),
                                           data=f.read(plan["part_size"]), timeout=600)
                        if part.status_code != 200:
                            raise SystemExit(f"part failed: {part.status_code}")
                done = session.post(server.url + plan["complete_url"], timeout=600)
                elapsed = time.perf_counter() - started
                if done.status_code != 200 or "error" in done.text[:2000].lower():
                    raise SystemExit(f"complete failed: {done.status_code}")
                return elapsed

            # Direct and portal uploads alternate, so both meet the same machine load.
            upload()  # warm-up: imports, connections, first-use caches
            common.reset_peak(worker)
            baseline = common.memory_kb(worker)["VmRSS"]
            direct_times, portal = [], []
            for i in range(args.uploads):
                direct_times.append(direct(i))
                portal.append(upload())
            after = common.memory_kb(worker)
            chunked: list[float] = []
            direct_chunked: list[float] = []
            if url != "/bench/upload":
                upload_in_parts(0)
                common.reset_peak(worker)
                chunked_baseline = common.memory_kb(worker)["VmRSS"]
                for i in range(1, args.uploads + 1):
                    direct_chunked.append(direct(100 + i))
                    chunked.append(upload_in_parts(i))
                chunked_after = common.memory_kb(worker)

    direct_rate = common.mb(size * len(direct_times)) / sum(direct_times)
    portal_rate = common.mb(size * len(portal)) / sum(portal)
    print(f"direct boto3 put_object: {sum(direct_times) / len(direct_times):.3f} s per file, "
          f"{direct_rate:.1f} MB/s")
    print(f"portal upload endpoint:  {sum(portal) / len(portal):.3f} s per file, "
          f"{portal_rate:.1f} MB/s")
    print(f"throughput ratio portal/direct: {portal_rate / direct_rate:.2f} (goal >= 0.7)")
    print(f"portal worker RSS: baseline {baseline / 1024:.1f} MB, peak "
          f"{after['VmHWM'] / 1024:.1f} MB, growth {(after['VmHWM'] - baseline) / 1024:.1f} MB"
          f" (goal < 50 MB); RSS after {after['VmRSS'] / 1024:.1f} MB")
    if chunked:
        rate = common.mb(size * len(chunked)) / sum(chunked)
        rate_direct = common.mb(size * len(direct_chunked)) / sum(direct_chunked)
        print(f"portal resumable upload (parts of 5 MiB): {sum(chunked) / len(chunked):.3f} s "
              f"per file, {rate:.1f} MB/s, ratio {rate / rate_direct:.2f}; RSS growth "
              f"{(chunked_after['VmHWM'] - chunked_baseline) / 1024:.1f} MB")


if __name__ == "__main__":
    main()
