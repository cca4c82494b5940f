"""Drives the emulator's Pub/Sub API with a Python client generated from
pubsub_api.proto (protoc + grpc_python_plugin) and the Apache Avro library:
a second client written without the emulator's code.

argv[1]: JSON {endpoint, certFile, accessToken, instanceUrl, tenantId, topic, want, stubs}
stdout: one JSON object per check.
"""
import io
import json
import sys
import threading

cfg = json.loads(sys.argv[1])
sys.path.insert(0, cfg["stubs"])

import avro.io  # noqa: E402
import avro.schema  # noqa: E402
import grpc  # noqa: E402

import eventbusv1.pubsub_api_pb2 as pb2  # noqa: E402
import eventbusv1.pubsub_api_pb2_grpc as pb2_grpc  # noqa: E402


def out(obj):
    print(json.dumps(obj), flush=True)


def bitmap_names(schema, bitmaps):
    """Expands Salesforce's field bitmaps as forcedotcom's ChangeEventHeaderUtility.py does."""
    names = []
    for b in bitmaps:
        fields, prefix = schema.fields, ""
        if "-" in b:
            parent_pos, b = b.split("-", 1)
            parent = schema.fields[int(parent_pos)]
            sub = [s for s in parent.type.schemas if s.type == "record"][0]
            fields, prefix = sub.fields, parent.name + "."
        bits = bin(int(b[2:], 16))[2:][::-1]
        names += [prefix + fields[i].name for i, c in enumerate(bits) if c == "1"]
    return sorted(names)


with open(cfg["certFile"], "rb") as f:
    creds = grpc.ssl_channel_credentials(root_certificates=f.read())
channel = grpc.secure_channel(cfg["endpoint"], creds)
stub = pb2_grpc.PubSubStub(channel)
meta = (("accesstoken", cfg["accessToken"]), ("instanceurl", cfg["instanceUrl"]), ("tenantid", cfg["tenantId"]))

topic = stub.GetTopic(pb2.TopicRequest(topic_name=cfg["topic"]), metadata=meta)
out({"check": "topic", "canSubscribe": topic.can_subscribe, "schemaId": topic.schema_id})

schemas = {}


def fetch(preset, want, replay_id=b""):
    stop = threading.Event()

    def requests():
        yield pb2.FetchRequest(topic_name=cfg["topic"], replay_preset=preset, replay_id=replay_id, num_requested=want)
        stop.wait()  # keep the request side open while the events arrive

    events = []
    stream = stub.Subscribe(requests(), metadata=meta, timeout=20)
    for res in stream:
        for ce in res.events:
            sid = ce.event.schema_id
            if sid not in schemas:
                schemas[sid] = avro.schema.parse(stub.GetSchema(pb2.SchemaRequest(schema_id=sid), metadata=meta).schema_json)
            sch = schemas[sid]
            rec = avro.io.DatumReader(sch).read(avro.io.BinaryDecoder(io.BytesIO(ce.event.payload)))
            h = rec["ChangeEventHeader"]
            events.append({
                "replayId": int.from_bytes(ce.replay_id, "big"),
                "changeType": h["changeType"], "changeOrigin": h["changeOrigin"], "recordIds": h["recordIds"],
                "changedFields": bitmap_names(sch, h["changedFields"]), "nulledFields": bitmap_names(sch, h["nulledFields"]),
                "email": rec.get("Email"), "lastName": (rec.get("Name") or {}).get("LastName"),
            })
        if len(events) >= want:
            break
    stop.set()
    stream.cancel()
    return events


all_events = fetch(pb2.ReplayPreset.EARLIEST, cfg["want"])
out({"check": "earliest", "events": all_events})
replayed = fetch(pb2.ReplayPreset.CUSTOM, cfg["want"] - 1, all_events[0]["replayId"].to_bytes(8, "big"))
out({"check": "replay", "events": replayed})

try:
    stub.GetTopic(pb2.TopicRequest(topic_name=cfg["topic"]), metadata=(("accesstoken", "bad"),) + meta[1:])
    out({"check": "badtoken", "code": "OK"})
except grpc.RpcError as e:
    trailer = dict(e.trailing_metadata() or ())
    out({"check": "badtoken", "code": e.code().name, "errorCode": trailer.get("error-code", "")})
