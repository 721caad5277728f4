"""Storage in an S3-compatible bucket (AWS, MinIO, Ceph, R2...) through boto3."""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress
from datetime import UTC, datetime
from typing import IO, Any, cast

import boto3
from botocore.awsrequest import AWSPreparedRequest
from botocore.client import BaseClient
from botocore.config import Config
from botocore.exceptions import ClientError
from botocore.response import StreamingBody

from portal.storage.base import (
    CHUNK,
    FileView,
    HashingReader,
    InvalidKey,
    NotFound,
    Storage,
    clamp_expiry,
    content_disposition,
    seekable_size,
    sha256_of,
    validate_key,
    validate_part_number,
)

# put() sends a seekable file up to this size in one PUT, streamed from the file itself:
# one request instead of a multipart upload's three or more, and no copy. Larger files
# and streams that cannot seek go as a multipart upload of PUT_PART_SIZE parts, each
# spooled to a temporary file first (botocore needs its length), so memory stays at one
# chunk whatever the file size.
SINGLE_PUT_LIMIT = 100 * 1024 * 1024
PUT_PART_SIZE = 8 * 1024 * 1024
_MISSING = {"404", "NoSuchKey", "NotFound"}
_SHA256_HEX = re.compile(r"[0-9a-f]{64}")


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


class _Spooled:
    """A part read from a stream into a temporary file (memory up to one chunk)."""

    def __init__(self, stream: IO[bytes] | HashingReader, limit: int | None) -> None:
        self.file = tempfile.SpooledTemporaryFile(max_size=CHUNK)  # noqa: SIM115
        self.size = 0
        try:
            while limit is None or self.size < limit:
                want = CHUNK if limit is None else min(CHUNK, limit - self.size)
                data = stream.read(want)
                if not data:
                    break
                self.file.write(data)
                self.size += len(data)
        except BaseException:
            self.file.close()
            raise
        self.file.seek(0)

    def close(self) -> None:
        self.file.close()


class S3Storage(Storage):
    def __init__(
        self,
        bucket: str,
        endpoint_url: str | None = None,
        region: str | None = None,
        access_key: str | None = None,
        secret_key: str | None = None,
        public_endpoint_url: str | None = None,
        create_bucket: bool = False,
    ) -> None:
        self.bucket = bucket
        self.endpoint_url = endpoint_url or None
        self.public_endpoint_url = public_endpoint_url or self.endpoint_url
        self.region = region or None
        credentials = {
            "aws_access_key_id": access_key or None,
            "aws_secret_access_key": secret_key or None,
        }
        # One session for both clients (boto3's default session is not thread-safe, and
        # a session loads the S3 service description once).
        self._session = boto3.session.Session()
        self._client = self._make_client(self.endpoint_url, credentials)
        # Browsers get URLs signed for the public host name, which may differ from the
        # one the server uses (e.g. http://minio:9000 inside docker vs files.example.org).
        # The host is part of the signature, so a separate client is needed.
        self._public = (
            self._client
            if self.public_endpoint_url == self.endpoint_url
            else self._make_client(self.public_endpoint_url, credentials)
        )
        # Payloads are signed (so hashed by botocore) over plain http only.
        self._signs_payload = (self.endpoint_url or "https:").startswith("http:")
        self._signed = threading.local()
        self._client.meta.events.register("before-send.s3.PutObject", self._note_signed_digest)
        if create_bucket:
            self._ensure_bucket()

    def __repr__(self) -> str:
        return f"S3Storage(bucket={self.bucket!r}, endpoint_url={self.endpoint_url!r})"

    def _make_client(self, endpoint_url: str | None, credentials: dict[str, Any]) -> BaseClient:
        config = Config(
            signature_version="s3v4",
            # Path style works with every S3-compatible server and with "localhost";
            # AWS itself (no endpoint) keeps the default virtual-host style.
            s3={"addressing_style": "path"} if endpoint_url else {},
            # boto3's default CRC checksums break several S3-compatible servers and
            # would have to be carried between the processes of a resumable upload.
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
            retries={"mode": "standard", "max_attempts": 3},
            connect_timeout=5,
            read_timeout=60,
        )
        return self._session.client(
            "s3", endpoint_url=endpoint_url, region_name=self.region, config=config,
            **credentials,
        )

    def _ensure_bucket(self) -> None:
        try:
            self._client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as e:
            if _code(e) not in _MISSING:
                raise
        args: dict[str, Any] = {"Bucket": self.bucket}
        if self.region and self.region != "us-east-1":
            args["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
        try:
            self._client.create_bucket(**args)
        except ClientError as e:  # another worker created it first
            if _code(e) not in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
                raise

    # -- blobs -----------------------------------------------------------------------

    def put(self, stream: IO[bytes], key: str, *, content_type: str) -> tuple[int, str]:
        validate_key(key)
        size = seekable_size(stream)
        if size is not None and size <= SINGLE_PUT_LIMIT:
            return size, self._put_single(stream, key, size, content_type)
        reader = HashingReader(stream)
        part = _Spooled(reader, PUT_PART_SIZE)
        if part.size < PUT_PART_SIZE:
            with part.file:
                self._client.put_object(
                    Bucket=self.bucket, Key=key, Body=part.file, ContentLength=part.size,
                    ContentType=content_type,
                )
            return reader.size, reader.hexdigest()
        upload_id = self.start_multipart(key, content_type)
        try:
            parts: list[tuple[int, str]] = []
            while part.size:
                with part.file:
                    number = len(parts) + 1
                    parts.append((number, self._send_part(key, upload_id, number,
                                                          part.file, part.size)))
                part = _Spooled(reader, PUT_PART_SIZE)
            part.close()
            self.complete_multipart(key, upload_id, parts)
        except BaseException:
            with suppress(Exception):
                self.abort_multipart(key, upload_id)
            raise
        return reader.size, reader.hexdigest()

    def _put_single(self, stream: IO[bytes], key: str, size: int, content_type: str) -> str:
        """One PUT of a seekable file (botocore rewinds it on a retry); returns its sha256.

        Over http, botocore signs the body's sha256 and the S3 server checks it: that
        digest, verified by the server, is ours too, so the file is hashed once. Over
        https the body is not signed; a second thread then hashes a real file through
        its own view while botocore sends it (hashing releases the GIL).
        """
        args = {"Bucket": self.bucket, "Key": key, "Body": stream, "ContentLength": size,
                "ContentType": content_type}
        view = None if self._signs_payload else FileView.of(stream, CHUNK)
        if view is None:
            start = stream.tell()
            self._signed.digest = None
            self._client.put_object(**args)
            signed = self._signed.digest
            if isinstance(signed, str) and _SHA256_HEX.fullmatch(signed):
                return signed
            stream.seek(start)
            return sha256_of(stream)
        with ThreadPoolExecutor(max_workers=1) as pool:
            digest = pool.submit(sha256_of, cast(IO[bytes], view))
            self._client.put_object(**args)
            return digest.result()

    def _note_signed_digest(self, request: AWSPreparedRequest, **_kwargs: Any) -> None:
        """botocore event before-send.s3.PutObject: keep the payload digest it signed."""
        value = request.headers.get("X-Amz-Content-SHA256")
        self._signed.digest = value.decode() if isinstance(value, bytes) else value

    def _send_part(self, key: str, upload_id: str, number: int, body: IO[bytes],
                   size: int) -> str:
        try:
            response = self._client.upload_part(
                Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number,
                Body=body, ContentLength=size,
            )
        except ClientError as e:
            if _code(e) == "NoSuchUpload":
                raise NotFound(f"no upload {upload_id!r} for {key!r}") from e
            raise
        return str(response["ETag"])

    def open(self, key: str) -> Iterator[bytes]:
        validate_key(key)
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if _code(e) in _MISSING:
                raise NotFound(key) from e
            raise
        return self._iter_body(response["Body"])

    @staticmethod
    def _iter_body(body: StreamingBody) -> Iterator[bytes]:
        try:
            yield from body.iter_chunks(CHUNK)
        finally:
            body.close()

    def delete(self, key: str) -> None:
        validate_key(key)
        self._client.delete_object(Bucket=self.bucket, Key=key)

    def size(self, key: str) -> int | None:
        validate_key(key)
        try:
            response = self._client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as e:
            if _code(e) in _MISSING:
                return None
            raise
        return int(response["ContentLength"])

    def iter_keys(self) -> Iterator[tuple[str, datetime]]:
        pages = self._client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket)
        for page in pages:
            for item in page.get("Contents", []):
                try:
                    validate_key(item["Key"])
                except InvalidKey:
                    continue  # not written by the portal: the sweep must leave it alone
                yield item["Key"], item["LastModified"].astimezone(UTC)

    def url_for_download(
        self,
        key: str,
        filename: str,
        content_type: str,
        expires: int = 60,
        inline: bool = False,
    ) -> str | None:
        validate_key(key)
        params = {
            "Bucket": self.bucket,
            "Key": key,
            "ResponseContentDisposition": content_disposition(filename, inline=inline),
            "ResponseContentType": content_type,
        }
        return str(
            self._public.generate_presigned_url(
                "get_object", Params=params, ExpiresIn=clamp_expiry(expires)
            )
        )

    def ping(self) -> None:
        self._client.head_bucket(Bucket=self.bucket)

    # -- multipart -------------------------------------------------------------------

    def start_multipart(self, key: str, content_type: str) -> str:
        validate_key(key)
        response = self._client.create_multipart_upload(
            Bucket=self.bucket, Key=key, ContentType=content_type
        )
        return str(response["UploadId"])

    def put_part(self, key: str, upload_id: str, part_number: int, stream: IO[bytes]) -> str:
        validate_key(key)
        validate_part_number(part_number)
        size = seekable_size(stream)
        if size is not None:  # already a file (the portal spools parts): no second copy
            return self._send_part(key, upload_id, part_number, stream, size)
        part = _Spooled(stream, None)
        with part.file:
            return self._send_part(key, upload_id, part_number, part.file, part.size)

    def complete_multipart(self, key: str, upload_id: str, parts: list[tuple[int, str]]) -> None:
        validate_key(key)
        ordered = sorted((validate_part_number(n), etag) for n, etag in parts)
        if not ordered:
            raise ValueError("parts must not be empty")
        try:
            self._client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in ordered]},
            )
        except ClientError as e:
            if _code(e) == "NoSuchUpload":
                raise NotFound(f"no upload {upload_id!r} for {key!r}") from e
            raise

    def abort_multipart(self, key: str, upload_id: str) -> None:
        validate_key(key)
        try:
            self._client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
        except ClientError as e:
            if _code(e) != "NoSuchUpload":
                raise

    def iter_multipart_uploads(self) -> Iterator[tuple[str, str, datetime]]:
        pages = self._client.get_paginator("list_multipart_uploads").paginate(Bucket=self.bucket)
        for page in pages:
            for item in page.get("Uploads", []):
                try:
                    validate_key(item["Key"])
                except InvalidKey:
                    continue
                yield item["Key"], item["UploadId"], item["Initiated"].astimezone(UTC)
