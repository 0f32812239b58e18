/** Resource failures raised by the kernel. */
import { Schema } from "effect"

export class InvalidMove extends Schema.TaggedError<InvalidMove>()("InvalidMove", {
  message: Schema.String
}) {}

export class ResourceRevoked extends Schema.TaggedError<ResourceRevoked>()("ResourceRevoked", {
  resourceId: Schema.String
}) {}

/** The change would leave these root resources without an owner. */
export class LastOwner extends Schema.TaggedError<LastOwner>()("LastOwner", {
  resourceIds: Schema.Array(Schema.String)
}) {}
