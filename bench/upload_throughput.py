"""20 uploads of a 20 MB scanned PDF through the portal vs direct boto3 puts.

Both go to the same S3 endpoint (a moto server in its own process). The portal runs
under gunicorn (one sync worker) on S3 storage; each upload goes through the workspace's
upload endpoint (POST /nominations/<id>/documents/<requirement>, multipart form, the
content checks included), as a nominator signed in through the login form, each to a
nomination of its own (so none replaces an earlier file).

Prints: seconds per upload both ways, throughput ratio (portal / direct; goal >= 0.7)
and the peak RSS growth of the portal's worker process (goal < 50 MB).

    .venv/bin/python bench/upload_throughput.py [--uploads 20] [--size-mb 20]
"""

from __future__ import annotations

import argparse
import io
import os
import time
import uuid
from collections.abc import Iterator
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


class MultipartFile:
    """A multipart/form-data body with one file, read from disk as it is sent
    (requests sends an iterable with a length as it comes, with a Content-Length).

    A browser streams the file it uploads; requests' own files= would first build the
    whole 20 MB body in memory, which costs the client as much time as the portal spends
    checking the file. This keeps the client's share the same as on the direct path,
    which streams the file into boto3.
    """

    def __init__(self, path: Path, field: str = "file",
                 content_type: str = "application/pdf") -> None:
        boundary = uuid.uuid4().hex
        self.content_type = f"multipart/form-data; boundary={boundary}"
        self._parts = [
            io.BytesIO((f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; '
                        f'filename="{path.name}"\r\nContent-Type: {content_type}\r\n\r\n'
                        ).encode()),
            path.open("rb"),
            io.BytesIO(f"\r\n--{boundary}--\r\n".encode()),
        ]
        self._length = sum(common.stream_size(part) for part in self._parts)

    def __len__(self) -> int:
        return self._length

    def __iter__(self) -> Iterator[bytes]:
        # Pieces of 1 MiB, as a browser sends them; requests would read a file-like body
        # 16 KiB at a time in Python, and the client's loop would be what is measured.
        for part in self._parts:
            while data := part.read(1024 * 1024):
                yield data

    def close(self) -> None:
        for part in self._parts:
            part.close()


def set_up(settings: dict, nominations: int) -> tuple[list[str], str]:
    """A nominator with draft nominations; returns (one upload URL each, e-mail)."""
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
        rows = [Nomination(reference=f"N-BENCH{i:04d}", cycle_id=cycle.id,
                           institution_id=institution.id, country="MY",
                           state=NominationState.DRAFT, family_name=f"Bench {i}",
                           duplicate_flags=[]) for i in range(nominations)]
        db.session.add_all(rows)
        db.session.commit()
        requirement = cycle.requirements[0].id
        urls = [f"/nominations/{n.id}/documents/{requirement}" for n in rows]
        email = user.email
        db.session.remove()
        db.engine.dispose()
    return urls, email


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
        urls, email = set_up(settings, 2 * (args.uploads + 1))

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

        def direct_in_parts(i: int, part_size: int) -> float:
            """The same parts as the resumable path, straight to S3 (its multipart cost)."""
            key = f"direct-parts-{i}"
            with pdf.open("rb") as f:
                started = time.perf_counter()
                upload_id = client.create_multipart_upload(Bucket=BUCKET, Key=key)["UploadId"]
                parts = []
                while data := f.read(part_size):
                    number = len(parts) + 1
                    etag = client.upload_part(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                              PartNumber=number, Body=data)["ETag"]
                    parts.append({"PartNumber": number, "ETag": etag})
                client.complete_multipart_upload(Bucket=BUCKET, Key=key, UploadId=upload_id,
                                                 MultipartUpload={"Parts": parts})
                return time.perf_counter() - started

        with common.gunicorn(settings, log=tmp / "gunicorn.log") as server:
            worker = common.worker_pid(server.proc.pid)
            session = common.sign_in(server.url, email)

            def upload(url: str) -> float:
                body = MultipartFile(pdf)
                try:
                    started = time.perf_counter()
                    response = session.post(
                        server.url + url, data=body, allow_redirects=False, timeout=600,
                        headers={"Content-Type": body.content_type})
                    elapsed = time.perf_counter() - started
                finally:
                    body.close()
                if response.status_code not in (200, 201, 303):
                    raise SystemExit(f"upload failed: {response.status_code} "
                                     f"{response.text[:300]}")
                return elapsed

            def upload_in_parts(url: str) -> tuple[float, int]:
                """The browser's way for files over 5 MB: resumable parts (uploads.js)."""
                started = time.perf_counter()
                response = session.post(server.url + url + "/uploads", timeout=60, data={
                    "filename": pdf.name, "size": size, "fingerprint": url})
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
                return elapsed, plan["part_size"]

            # Direct and portal uploads alternate, so both meet the same machine load.
            upload(urls.pop())  # warm-up: imports, connections, first-use caches
            common.reset_peak(worker)
            baseline = common.memory_kb(worker)["VmRSS"]
            direct_times, portal = [], []
            for i in range(args.uploads):
                direct_times.append(direct(i))
                portal.append(upload(urls.pop()))
            after = common.memory_kb(worker)

            _warm, part_size = upload_in_parts(urls.pop())
            common.reset_peak(worker)
            chunked_baseline = common.memory_kb(worker)["VmRSS"]
            chunked, direct_chunked, direct_parts = [], [], []
            for i in range(args.uploads):
                direct_chunked.append(direct(100 + i))
                direct_parts.append(direct_in_parts(i, part_size))
                chunked.append(upload_in_parts(urls.pop())[0])
            chunked_after = common.memory_kb(worker)

    def rate(times: list[float]) -> float:
        return common.mb(size * len(times)) / sum(times)

    def line(label: str, times: list[float]) -> str:
        return f"{label}: {sum(times) / len(times):.3f} s per file, {rate(times):.1f} MB/s"

    print(line("direct boto3 put_object", direct_times))
    print(line("portal upload endpoint (one request)", portal))
    print(f"throughput ratio portal/direct: {rate(portal) / rate(direct_times):.2f} "
          "(goal >= 0.7)")
    print(f"portal worker RSS: baseline {baseline / 1024:.1f} MB, peak "
          f"{after['VmHWM'] / 1024:.1f} MB, growth {(after['VmHWM'] - baseline) / 1024:.1f} MB"
          f" (goal < 50 MB); RSS after {after['VmRSS'] / 1024:.1f} MB")
    parts = f"parts of {part_size / 2**20:g} MiB"
    print(line(f"portal resumable upload ({parts})", chunked))
    print(line(f"direct boto3 multipart upload ({parts})", direct_parts))
    print(f"resumable ratio: {rate(chunked) / rate(direct_chunked):.2f} against put_object, "
          f"{rate(chunked) / rate(direct_parts):.2f} against the same parts sent straight "
          f"to S3; worker RSS growth "
          f"{(chunked_after['VmHWM'] - chunked_baseline) / 1024:.1f} MB (goal < 50 MB)")


if __name__ == "__main__":
    main()
