import PropertyBased
import SysPinCore

/// Any OpenBSD arch of SPEC §3: both classes, both byte orders. Shrinks towards amd64.
public let archGen = Gen.int(in: 0...(Arch.all.count - 1)).map { Arch.all[$0] }
