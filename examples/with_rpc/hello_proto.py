"""The Hello service's protobuf messages, built at run time from a FileDescriptorProto: no protoc step, and
mypy-clean because the classes are typed as plain ``Message`` subclasses.

proto3 equivalent::

    package hello.v1;
    message HelloRequest { string name = 1; string greeting = 2; }
    message HelloReply { string message = 1; }
    service Greeter { rpc SayHello(HelloRequest) returns (HelloReply); }
"""

from __future__ import annotations

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory
from google.protobuf.message import Message

SERVICE = "hello.v1.Greeter"
SAY_HELLO = "/hello.v1.Greeter/SayHello"


def _build() -> tuple[type[Message], type[Message]]:
    field = descriptor_pb2.FieldDescriptorProto
    proto = descriptor_pb2.FileDescriptorProto(name="examples/hello.proto", package="hello.v1", syntax="proto3")
    request = proto.message_type.add(name="HelloRequest")
    request.field.add(name="name", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL, json_name="name")
    request.field.add(name="greeting", number=2, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL,
                      json_name="greeting")
    reply = proto.message_type.add(name="HelloReply")
    reply.field.add(name="message", number=1, type=field.TYPE_STRING, label=field.LABEL_OPTIONAL, json_name="message")
    service = proto.service.add(name="Greeter")
    service.method.add(name="SayHello", input_type=".hello.v1.HelloRequest", output_type=".hello.v1.HelloReply")
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return (message_factory.GetMessageClass(pool.FindMessageTypeByName("hello.v1.HelloRequest")),
            message_factory.GetMessageClass(pool.FindMessageTypeByName("hello.v1.HelloReply")))


HelloRequest, HelloReply = _build()
