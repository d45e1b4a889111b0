"""The Hello service's messages, built at run time from a FileDescriptorProto (no protoc step)."""

from __future__ import annotations

from typing import Any

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto


def _build() -> tuple[Any, Any]:
    proto = descriptor_pb2.FileDescriptorProto(name="tests/hello.proto", package="hello.v1", syntax="proto3")
    request = proto.message_type.add(name="HelloRequest")
    request.field.add(name="name", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="name")
    request.field.add(name="delay_ms", number=2, type=F.TYPE_INT32, label=F.LABEL_OPTIONAL, json_name="delayMs")
    request.field.add(name="fail_code", number=3, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="failCode")
    request.field.add(name="tags", number=4, type=F.TYPE_STRING, label=F.LABEL_REPEATED, json_name="tags")
    request.field.add(name="shout", number=5, type=F.TYPE_BOOL, label=F.LABEL_OPTIONAL, json_name="shout")
    reply = proto.message_type.add(name="HelloReply")
    reply.field.add(name="message", number=1, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="message")
    reply.field.add(name="traceparent", number=2, type=F.TYPE_STRING, label=F.LABEL_OPTIONAL, json_name="traceparent")
    reply.field.add(name="attempt", number=3, type=F.TYPE_INT64, label=F.LABEL_OPTIONAL, json_name="attempt")
    service = proto.service.add(name="Greeter")
    service.method.add(name="SayHello", input_type=".hello.v1.HelloRequest", output_type=".hello.v1.HelloReply")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return (message_factory.GetMessageClass(pool.FindMessageTypeByName("hello.v1.HelloRequest")),
            message_factory.GetMessageClass(pool.FindMessageTypeByName("hello.v1.HelloReply")))


HelloRequest, HelloReply = _build()
SERVICE = "hello.v1.Greeter"
SAY_HELLO = "/hello.v1.Greeter/SayHello"
