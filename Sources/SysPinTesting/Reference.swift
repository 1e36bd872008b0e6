// The reference model lives in its own dependency-free target (see Package.swift); the testing
// tools hand it out with the rest.
@_exported import SysPinReference
