"""Shared pytest fixtures: the repository root and real-service availability.

Tests that need PostgreSQL, Redis, NATS, RabbitMQ or Mosquitto take the engine's URL fixture
(``postgres_url``, ``redis_url``, ``nats_url``, ``rabbitmq_url``, ``mosquitto_url``) or call
``require_service``. The URL comes from ``PLUMEGO_TEST_<ENGINE>_URL`` (default: the loopback server);
when nothing answers on its host and port the test skips with the reason, except under CI=true, where a
missing service fails the test (CI machines start them before the run).
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent

SERVICES = {
    "postgres": ("127.0.0.1", 5432),
    "redis": ("127.0.0.1", 6379),
    "nats": ("127.0.0.1", 4222),
    "rabbitmq": ("127.0.0.1", 5672),
    "mosquitto": ("127.0.0.1", 1883),
}
DEFAULT_URLS = {
    "postgres": "postgresql://postgres@127.0.0.1:5432/postgres",
    "redis": "redis://127.0.0.1:6379/0",
    "nats": "nats://127.0.0.1:4222",
    "rabbitmq": "amqp://guest:guest@127.0.0.1:5672/",
    "mosquitto": "mqtt://127.0.0.1:1883",
}


def service_url(name: str) -> str:
    """``PLUMEGO_TEST_<NAME>_URL`` or the loopback default for engine ``name``."""
    return os.environ.get(f"PLUMEGO_TEST_{name.upper()}_URL") or DEFAULT_URLS[name]


def require_service(name: str) -> tuple[str, int]:
    """Return (host, port) of a running service, or skip (fail under CI=true) when it is down."""
    parts = urlsplit(service_url(name))
    host, port = parts.hostname or SERVICES[name][0], parts.port or SERVICES[name][1]
    try:
        with socket.create_connection((host, port), timeout=1.0):
            return host, port
    except OSError as exc:
        reason = f"{name} is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)


def _url_fixture(name: str) -> Iterator[str]:
    require_service(name)
    yield service_url(name)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    yield from _url_fixture("postgres")


@pytest.fixture
def redis_url() -> Iterator[str]:
    yield from _url_fixture("redis")


@pytest.fixture
def nats_url() -> Iterator[str]:
    yield from _url_fixture("nats")


@pytest.fixture
def rabbitmq_url() -> Iterator[str]:
    yield from _url_fixture("rabbitmq")


@pytest.fixture
def mosquitto_url() -> Iterator[str]:
    yield from _url_fixture("mosquitto")


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


# One isolated namespace per test on each engine (removed afterwards), for the families and the examples.
@pytest.fixture
def pg_schema(postgres_url: str) -> Iterator[tuple[str, str]]:
    """(base URL, schema name): a schema that exists only for this test."""
    psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed (pip install 'plumego[postgres]')")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    yield postgres_url, schema
    with psycopg.connect(postgres_url, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


@pytest.fixture
def redis_namespace(redis_url: str) -> Iterator[tuple[str, str]]:
    """(base URL, key prefix): every key the test writes starts with ``{prefix}``; they are deleted afterwards."""
    redis = pytest.importorskip("redis", reason="redis-py is not installed (pip install 'plumego[redis]')")
    prefix = f"t{uuid.uuid4().hex[:12]}"
    yield redis_url, prefix
    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter(match="{" + prefix + "}*", count=1000))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


# --- S3 (x/data/file): moto's S3 API server on a free loopback port, one per test session ------------------------
@pytest.fixture(scope="session")
def s3_endpoint() -> Iterator[str]:
    """Base URL of a real S3 API server (moto's server mode, a dev dependency) that this test session starts.

    ``PLUMEGO_TEST_S3_URL`` points the tests at another S3-compatible server (MinIO, say) instead.
    """
    external = os.environ.get("PLUMEGO_TEST_S3_URL")
    if external:
        yield external
        return
    server_mod = pytest.importorskip("moto.server", reason="moto is not installed (pip install 'moto[server]')")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = server_mod.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.fixture
def s3_bucket(s3_endpoint: str) -> Iterator[tuple[str, str]]:
    """(endpoint, bucket): a bucket that exists only for this test, emptied and removed afterwards."""
    boto3 = pytest.importorskip("boto3", reason="boto3 is not installed (pip install 'plumego[data]')")
    bucket = f"t-{uuid.uuid4().hex[:12]}"
    client = boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1", aws_access_key_id="test",
                          aws_secret_access_key="test")
    client.create_bucket(Bucket=bucket)
    yield s3_endpoint, bucket
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    for upload in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []):
        client.abort_multipart_upload(Bucket=bucket, Key=upload["Key"], UploadId=upload["UploadId"])
    client.delete_bucket(Bucket=bucket)
    client.close()


# --- MariaDB/MySQL (x/data): the loopback server, one database per test -------------------------------------------
def _mariadb_url() -> str:
    return os.environ.get("PLUMEGO_TEST_MARIADB_URL") or "mysql://root@127.0.0.1:3306/test"


@pytest.fixture
def mariadb_url() -> Iterator[str]:
    """URL of a running MariaDB/MySQL (``PLUMEGO_TEST_MARIADB_URL``, default root@127.0.0.1:3306/test); skips when
    it is down (fails under CI=true)."""
    parts = urlsplit(_mariadb_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 3306
    try:
        with socket.create_connection((host, port), timeout=1.0):
            pass
    except OSError as exc:
        reason = f"mariadb is not reachable on {host}:{port} ({exc})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)
    yield _mariadb_url()


@pytest.fixture
def mariadb_database(mariadb_url: str) -> Iterator[str]:
    """URL of a database that exists only for this test (created and dropped here)."""
    pymysql = pytest.importorskip("pymysql", reason="PyMySQL is not installed (pip install 'plumego[dev]')")
    parts = urlsplit(mariadb_url)
    name = f"t_{uuid.uuid4().hex[:12]}"
    kwargs = dict(host=parts.hostname or "127.0.0.1", port=parts.port or 3306, user=parts.username or "root",
                  password=parts.password or "")
    with pymysql.connect(**kwargs) as conn, conn.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    yield parts._replace(path=f"/{name}").geturl()
    with pymysql.connect(**kwargs) as conn, conn.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name}")


# --- PostgreSQL streaming replica (x/data/rw): a private primary + pg_basebackup replica, once per session ---------
def _pg_bin() -> Path | None:
    base = Path("/usr/lib/postgresql")
    found = sorted(base.glob("*/bin/pg_basebackup")) if base.is_dir() else []
    return found[-1].parent if found else None


@pytest.fixture(scope="session")
def pg_replica_pair() -> Iterator[tuple[str, str]]:
    """(primary URL, replica URL): a throwaway primary (initdb, replication allowed from loopback) and a streaming
    replica made with ``pg_basebackup -R``, each on a free port. The shared server's configuration is left alone.
    Skips (fails under CI=true) without the PostgreSQL server binaries or the ``postgres`` system user."""
    import pwd
    import shutil
    import subprocess
    import tempfile

    def unavailable(reason: str) -> None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true and {reason}")
        pytest.skip(reason)

    bindir = _pg_bin()
    if bindir is None:
        unavailable("PostgreSQL server binaries (initdb, pg_basebackup) are not installed")
    try:
        user = pwd.getpwnam("postgres")
    except KeyError:
        unavailable("there is no postgres system user to run a private server")
    if os.geteuid() != 0:
        unavailable("starting a private PostgreSQL server as the postgres user needs root")
    assert bindir is not None
    root = Path(tempfile.mkdtemp(prefix="plumego-pgrw-"))     # pytest's tmp root is private to root (0700)
    os.chown(root, user.pw_uid, user.pw_gid)
    ports = []
    for _ in range(2):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            ports.append(probe.getsockname()[1])

    def run(*args: str) -> None:
        proc = subprocess.run(["runuser", "-u", "postgres", "--", *args], capture_output=True, text=True,
                              timeout=120)
        if proc.returncode != 0:
            unavailable(f"{Path(args[0]).name} failed: {proc.stderr.strip()[-300:]}")

    primary, replica = root / "primary", root / "replica"
    started: list[Path] = []
    try:
        run(str(bindir / "initdb"), "-D", str(primary), "-U", "postgres", "--auth=trust", "-N")
        with open(primary / "postgresql.conf", "a") as conf:
            conf.write(f"port={ports[0]}\nlisten_addresses='127.0.0.1'\nunix_socket_directories='{root}'\n"
                       "fsync=off\nfull_page_writes=off\nshared_buffers=16MB\nmax_wal_senders=4\n")
        with open(primary / "pg_hba.conf", "a") as hba:
            hba.write("host replication all 127.0.0.1/32 trust\n")
        run(str(bindir / "pg_ctl"), "-D", str(primary), "-l", str(root / "primary.log"), "-w", "start")
        started.append(primary)
        run(str(bindir / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(ports[0]), "-U", "postgres", "-D",
            str(replica), "-R", "-X", "stream")
        with open(replica / "postgresql.conf", "a") as conf:
            conf.write(f"port={ports[1]}\n")
        run(str(bindir / "pg_ctl"), "-D", str(replica), "-l", str(root / "replica.log"), "-w", "start")
        started.append(replica)
        yield (f"postgresql://postgres@127.0.0.1:{ports[0]}/postgres",
               f"postgresql://postgres@127.0.0.1:{ports[1]}/postgres")
    finally:
        for datadir in reversed(started):
            subprocess.run(["runuser", "-u", "postgres", "--", str(bindir / "pg_ctl"), "-D", str(datadir), "-m",
                            "immediate", "stop"], capture_output=True, timeout=60)
        shutil.rmtree(root, ignore_errors=True)


# --- etcd (x/gateway discovery) -------------------------------------------------------------------------------
# etcd is not one of the services this machine starts: use PLUMEGO_TEST_ETCD_URL when set, else run the `etcd`
# binary from Debian's etcd-server package on free loopback ports for the session, else skip with the reason
# (also under CI=true: CI does not install etcd).
@pytest.fixture(scope="session")
def etcd_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import shutil
    import subprocess
    import time
    import urllib.request

    given = os.environ.get("PLUMEGO_TEST_ETCD_URL")
    if given:
        yield given
        return
    binary = shutil.which("etcd")
    if binary is None:
        pytest.skip("etcd is not installed (apt-get install etcd-server) and PLUMEGO_TEST_ETCD_URL is not set")
    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    client, peer = (f"http://127.0.0.1:{p}" for p in ports)
    data = tmp_path_factory.mktemp("etcd")
    proc = subprocess.Popen(
        [binary, "--name", "plumego-test", "--data-dir", str(data), "--listen-client-urls", client,
         "--advertise-client-urls", client, "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
         "--initial-cluster", f"plumego-test={peer}", "--log-level", "error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                with urllib.request.urlopen(client + "/health", timeout=1) as response:
                    if b'"true"' in response.read():
                        break
            except OSError:
                time.sleep(0.05)
        else:
            pytest.skip("etcd did not become healthy within 10 s")
        yield client
    finally:
        proc.terminate()
        proc.wait(10)


# -- NATS JetStream namespaces (x/messaging mq backend, examples) ------------------------------------------------
@pytest.fixture
async def nats_namespace(nats_url: str) -> AsyncIterator[tuple[str, str]]:
    """(server URL, namespace): every stream whose name holds the namespace (the task queue's ``MQ_<ns>`` and its
    key-value bucket ``KV_MQ_<ns>``) is deleted afterwards."""
    nats = pytest.importorskip("nats", reason="nats-py is not installed (pip install 'plumego[nats]')")
    namespace = f"t{uuid.uuid4().hex[:12]}"
    yield nats_url, namespace
    nc = await nats.connect(nats_url)
    try:
        js = nc.jetstream()
        for info in await js.streams_info():
            if namespace in info.config.name:
                await js.delete_stream(info.config.name)
    finally:
        await nc.close()
