"""notify.pyfile: a Kassa notification channel written in Python.

It appends every message it is sent, as one JSON line, to a file in the
plugin's data directory (KASSA_PLUGIN_DATA_DIR): an outbox that another
program of the merchant's can read. It exists to show, without the Go SDK,
everything a plugin in another language must do; docs/plugin-protocol.md is
the reference it follows:

  1. refuse to run without the magic cookie;
  2. make a self-signed certificate and serve gRPC over mutual TLS, trusting
     only the host's certificate from PLUGIN_CLIENT_CERT;
  3. serve grpc.health.v1.Health ("plugin"), plugin.GRPCController
     (Shutdown), kassa.plugin.v1.Plugin and kassa.plugin.v1.NotificationChannel;
  4. print the handshake line on stdout;
  5. log JSON lines on stderr.

It needs Debian's python3-grpcio, python3-protobuf and python3-cryptography
and is shipped as one executable zip application (see build.sh).
"""

import base64
import datetime
import json
import os
import re
import signal
import sys
import tempfile
import threading
import uuid
from concurrent import futures

import grpc
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kassa.plugin.v1 import common_pb2, notify_pb2
from kassa_example.wire import controller_pb2, health_pb2

PLUGIN_ID = "notify.pyfile"
VERSION = "1.0.0"

# The handshake Kassa's host expects (plugins/sdk/handshake.go).
MAGIC_COOKIE_KEY = "KASSA_PLUGIN"
MAGIC_COOKIE_VALUE = "6f1d3c2b-kassa-plugin-v1-a8e4b7d9"
CORE_PROTOCOL_VERSION = 1  # go-plugin's own protocol
APP_PROTOCOL_VERSION = 1  # kassa.plugin.v1

# Same bound as the Go SDK (internal/rpc.MaxMessageSize), both directions.
MAX_MESSAGE_SIZE = 32 << 20

FILE_NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

CONFIG_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["file_name"],
    "properties": {
        "file_name": {
            "type": "string",
            "title": "Outbox file",
            "description": "Name of the file in the plugin's data directory that messages are appended to, one JSON object per line.",
            "pattern": FILE_NAME_PATTERN.pattern,
        },
        "templates": {
            "type": "array",
            "items": {"type": "string", "minLength": 1},
            "title": "Events",
            "description": "Template ids to write, e.g. order.paid. Others are refused with template_missing. Empty or absent: all.",
        },
    },
}

LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4}


class Log:
    """Writes hclog JSON lines to stderr, which the host parses into its log.

    The host requires "@timestamp" in exactly this layout, or it takes the line
    for plain text; "@level" and "@message" must be strings.
    """

    def __init__(self, level_name):
        self.min = LEVELS.get((level_name or "info").strip().lower(), LEVELS["info"])
        self.lock = threading.Lock()

    def log(self, level, message, **attrs):
        if LEVELS[level] < self.min:
            return
        now = datetime.datetime.now(datetime.timezone.utc)
        line = {"@level": level, "@message": message, "@timestamp": now.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}
        line.update(attrs)
        with self.lock:
            sys.stderr.write(json.dumps(line, default=str) + "\n")
            sys.stderr.flush()

    def debug(self, message, **attrs):
        self.log("debug", message, **attrs)

    def info(self, message, **attrs):
        self.log("info", message, **attrs)

    def error(self, message, **attrs):
        self.log("error", message, **attrs)


LOG = Log(os.environ.get("KASSA_PLUGIN_LOG_LEVEL"))


def config_error(field, code, message):
    return common_pb2.ConfigError(field=field, code=code, message=message)


def validate_config(raw):
    """Checks the settings against CONFIG_SCHEMA by hand (Debian's Python has
    no JSON Schema validator by default). Returns (settings, errors)."""
    try:
        cfg = json.loads(raw.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError) as e:
        return None, [config_error("", "syntax", "settings are not valid JSON: %s" % e)]
    if not isinstance(cfg, dict):
        return None, [config_error("", "type", "settings must be a JSON object")]
    errors = []
    for name in sorted(cfg):
        if name not in CONFIG_SCHEMA["properties"]:
            errors.append(config_error("/" + name, "unknown_field", "unknown setting %r" % name))
    for name in CONFIG_SCHEMA["required"]:
        if name not in cfg:
            errors.append(config_error("/" + name, "required", "the setting %r is required" % name))
    file_name = cfg.get("file_name")
    if "file_name" in cfg:
        if not isinstance(file_name, str):
            errors.append(config_error("/file_name", "type", "file_name must be a string"))
        elif not FILE_NAME_PATTERN.match(file_name) or file_name in (".", ".."):
            errors.append(config_error("/file_name", "pattern", "file_name must be a plain file name (letters, digits, '.', '_', '-')"))
    templates = cfg.get("templates", [])
    if not isinstance(templates, list):
        errors.append(config_error("/templates", "type", "templates must be an array of template ids"))
    else:
        for i, t in enumerate(templates):
            if not isinstance(t, str) or not t:
                errors.append(config_error("/templates/%d" % i, "type", "a template id must be a non-empty string"))
    if not os.environ.get("KASSA_PLUGIN_DATA_DIR"):
        errors.append(config_error("", "no_data_dir", "the host gave the plugin no data directory (KASSA_PLUGIN_DATA_DIR)"))
    if errors:
        return None, errors
    return {"file_name": file_name, "templates": frozenset(templates)}, []


class Outbox:
    """The channel's state: settings and the deliveries already written,
    keyed by message id, so that a retried Send never writes twice."""

    def __init__(self):
        self.lock = threading.Lock()
        self.settings = None
        self.path = None
        self.sent = {}

    def configure(self, settings):
        path = os.path.join(os.environ["KASSA_PLUGIN_DATA_DIR"], settings["file_name"])
        sent = {}
        # Rebuild the idempotency index from the file, so retries stay
        # idempotent across restarts of the plugin.
        if os.path.exists(path):
            with open(path, "r", encoding="utf-8") as f:
                for line in f:
                    try:
                        rec = json.loads(line)
                        sent[rec["message_id"]] = rec["delivery_id"]
                    except (ValueError, KeyError, TypeError):
                        continue
        with self.lock:
            self.settings, self.path, self.sent = settings, path, sent

    def send(self, req):
        with self.lock:
            if self.settings is None:
                return failed("not_configured", "the channel has no settings yet", retryable=True)
            if not req.message_id:
                return failed("invalid_message", "the message has no id", retryable=False)
            if req.message_id in self.sent:
                return notify_pb2.SendResponse(delivery_id=self.sent[req.message_id], status=notify_pb2.DELIVERY_STATUS_SENT)
            allowed = self.settings["templates"]
            if allowed and req.template_id not in allowed:
                return failed("template_missing", "template %r is not among the configured events" % req.template_id, retryable=False)
            try:
                data = json.loads(req.data.decode("utf-8")) if req.data else {}
            except (UnicodeDecodeError, ValueError):
                data = None
            if not isinstance(data, dict):
                return failed("invalid_data", "the message data is not a JSON object", retryable=False)
            delivery_id = "pyfile_" + uuid.uuid4().hex
            # secret_data is deliberately not written: it must not outlive
            # the delivery.
            rec = {
                "delivery_id": delivery_id,
                "message_id": req.message_id,
                "template_id": req.template_id,
                "locale": req.locale or "en",
                "store_id": req.store_id,
                "recipient": {k: v for k, v in (("email", req.recipient.email), ("phone", req.recipient.phone),
                                                ("url", req.recipient.url), ("name", req.recipient.name)) if v},
                "data": data,
                "written_at": datetime.datetime.now(datetime.timezone.utc).isoformat(),
            }
            try:
                fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
                try:
                    os.write(fd, (json.dumps(rec, ensure_ascii=False) + "\n").encode("utf-8"))
                    os.fsync(fd)
                finally:
                    os.close(fd)
            except OSError as e:
                LOG.error("writing the outbox failed", message_id=req.message_id, error=e.strerror)
                return failed("write_failed", "could not write the outbox file: %s" % e.strerror, retryable=True)
            self.sent[req.message_id] = delivery_id
        LOG.info("message written", message_id=req.message_id, template_id=req.template_id, delivery_id=delivery_id)
        return notify_pb2.SendResponse(delivery_id=delivery_id, status=notify_pb2.DELIVERY_STATUS_SENT)

    def health(self):
        with self.lock:
            path = self.path
        if path is None:
            return common_pb2.HealthResponse(status=common_pb2.HEALTH_STATUS_NOT_SERVING, message="not configured")
        if not os.access(os.path.dirname(path), os.W_OK):
            return common_pb2.HealthResponse(status=common_pb2.HEALTH_STATUS_NOT_SERVING, message="the data directory is not writable")
        return common_pb2.HealthResponse(status=common_pb2.HEALTH_STATUS_SERVING)


def failed(code, message, retryable):
    return notify_pb2.SendResponse(status=notify_pb2.DELIVERY_STATUS_FAILED, error_code=code,
                                   error_message=message, retryable=retryable)


def describe(_req, _ctx):
    return common_pb2.DescribeResponse(info=common_pb2.PluginInfo(
        id=PLUGIN_ID,
        kind=common_pb2.KIND_NOTIFY,
        version=VERSION,
        protocol_version=APP_PROTOCOL_VERSION,
        capabilities=["merchant_events"],
        config_schema=json.dumps(CONFIG_SCHEMA),
        display_name="Outbox file (Python example)",
        description="Appends shop events as JSON lines to a file in the plugin's data directory.",
        sdk_version="python-example",
    ))


def unary(fn, req_type, resp_type):
    return grpc.unary_unary_rpc_method_handler(
        fn, request_deserializer=req_type.FromString, response_serializer=resp_type.SerializeToString)


def make_certificate():
    """A fresh self-signed certificate for this process: CN and DNS name
    "localhost" (the host verifies that name), valid for server and client
    authentication. Returns (key PEM, cert PEM, cert DER)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(seconds=30))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_encipherment=False, content_commitment=False,
                                     data_encipherment=False, key_agreement=True, key_cert_sign=True,
                                     crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return key_pem, cert.public_bytes(serialization.Encoding.PEM), cert.public_bytes(serialization.Encoding.DER)


def main():
    if os.environ.get(MAGIC_COOKIE_KEY) != MAGIC_COOKIE_VALUE:
        sys.stderr.write("This binary is a plugin for Kassa. Install it with `kassa plugin install`;"
                         " Kassa starts it, it is not meant to be run directly.\n")
        return 1
    offered = [v.strip() for v in os.environ.get("PLUGIN_PROTOCOL_VERSIONS", "").split(",") if v.strip()]
    if offered and str(APP_PROTOCOL_VERSION) not in offered:
        LOG.error("the host offers no protocol version this plugin speaks", offered=",".join(offered), want=APP_PROTOCOL_VERSION)
        return 1
    client_cert = os.environ.get("PLUGIN_CLIENT_CERT", "")
    if not client_cert:
        LOG.error("PLUGIN_CLIENT_CERT is empty: Kassa always uses mutual TLS, refusing to serve in clear text")
        return 1

    # Ctrl-C in a terminal reaches the whole process group; the host stops
    # its plugins itself (Shutdown, then SIGKILL), as Go plugins do.
    signal.signal(signal.SIGINT, signal.SIG_IGN)

    key_pem, cert_pem, cert_der = make_certificate()
    creds = grpc.ssl_server_credentials([(key_pem, cert_pem)], root_certificates=client_cert.encode("ascii"),
                                        require_client_auth=True)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=[
        ("grpc.max_receive_message_length", MAX_MESSAGE_SIZE),
        ("grpc.max_send_message_length", MAX_MESSAGE_SIZE),
        ("grpc.so_reuseport", 0),
    ])

    outbox = Outbox()
    stopping = threading.Event()

    def configure(req, _ctx):
        settings, errors = validate_config(req.config)
        if errors:
            return common_pb2.ConfigureResponse(errors=errors)
        try:
            outbox.configure(settings)
        except OSError as e:
            return common_pb2.ConfigureResponse(errors=[config_error("/file_name", "unreadable", "cannot read the outbox file: %s" % e.strerror)])
        LOG.info("configured", file_name=settings["file_name"])
        return common_pb2.ConfigureResponse()

    def health_check(req, ctx):
        if req.service not in ("", "plugin"):
            ctx.abort(grpc.StatusCode.NOT_FOUND, "unknown service %r" % req.service)
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    def shutdown(_req, _ctx):
        # Answer first, then stop: the host waits two seconds for the exit
        # before it kills the process.
        stopping.set()
        return controller_pb2.Empty()

    server.add_generic_rpc_handlers((
        grpc.method_handlers_generic_handler("grpc.health.v1.Health", {
            "Check": unary(health_check, health_pb2.HealthCheckRequest, health_pb2.HealthCheckResponse),
        }),
        grpc.method_handlers_generic_handler("plugin.GRPCController", {
            "Shutdown": unary(shutdown, controller_pb2.Empty, controller_pb2.Empty),
        }),
        grpc.method_handlers_generic_handler("kassa.plugin.v1.Plugin", {
            "Describe": unary(describe, common_pb2.DescribeRequest, common_pb2.DescribeResponse),
            "Configure": unary(configure, common_pb2.ConfigureRequest, common_pb2.ConfigureResponse),
            "Health": unary(lambda _req, _ctx: outbox.health(), common_pb2.HealthRequest, common_pb2.HealthResponse),
            # HandleHTTP is optional: not registering it makes gRPC answer
            # UNIMPLEMENTED, which the host expects.
        }),
        grpc.method_handlers_generic_handler("kassa.plugin.v1.NotificationChannel", {
            "Send": unary(lambda req, _ctx: outbox.send(req), notify_pb2.SendRequest, notify_pb2.SendResponse),
        }),
    ))

    # A Unix socket in a private directory: only this user can connect, and
    # no TCP port can be taken over by another process.
    sock_dir = tempfile.mkdtemp(prefix="kassa-plugin-", dir=os.environ.get("PLUGIN_UNIX_SOCKET_DIR") or None)
    sock = os.path.join(sock_dir, "plugin.sock")
    if server.add_secure_port("unix:" + sock, creds) == 0:
        LOG.error("cannot listen", address=sock)
        return 1
    server.start()

    cert_b64 = base64.b64encode(cert_der).decode("ascii").rstrip("=")
    sys.stdout.write("%d|%d|unix|%s|grpc|%s\n" % (CORE_PROTOCOL_VERSION, APP_PROTOCOL_VERSION, sock, cert_b64))
    sys.stdout.flush()
    LOG.debug("serving", address=sock, plugin_id=os.environ.get("KASSA_PLUGIN_ID", ""))

    # go-plugin has no way to tell a plugin that the host died without
    # calling Shutdown (SIGKILL, crash): watch for being orphaned instead.
    parent = os.getppid()

    def watch_parent():
        while not stopping.wait(1):
            if os.getppid() != parent:
                LOG.info("the host went away; stopping")
                stopping.set()

    threading.Thread(target=watch_parent, daemon=True).start()
    stopping.wait()
    server.stop(grace=1).wait()
    try:
        os.remove(sock)
    except OSError:
        pass
    os.rmdir(sock_dir)
    LOG.debug("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
