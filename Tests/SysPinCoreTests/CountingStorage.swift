import SysPinCore

// P6's storage: the pin check reads a region only through `PinStorage`, so a storage that counts
// every pins[] element and every strict-set slot it hands out measures the check's cost where a
// lookup cannot hide it (a scan of the table reads more elements, whatever the check reports).

/// Reads counted so far; shared by the regions (and their site sets) of one check.
final class ReadCount {
    var count = 0
}

/// A region whose storage counts reads: the same bounds, pins and sites as `region`.
struct CountingRegion: PinStorage {
    let region: PinRegion
    let reads: ReadCount

    init(_ region: PinRegion, reads: ReadCount) {
        self.region = region
        self.reads = reads
    }

    var start: UInt64 { region.start }
    var end: UInt64 { region.end }
    var npins: Int { region.pins.count }

    func pinElement(_ i: Int) -> UInt32 {
        reads.count += 1
        return region.pins[i]
    }

    var siteSlots: CountingSites? { region.exactSites.map { CountingSites($0, reads: reads) } }
}

/// An exact site set whose slots count reads.
struct CountingSites: ExactSiteSlots {
    let sites: ExactSiteSet
    let table: [ExactSite]
    let reads: ReadCount

    init(_ set: ExactSiteSet, reads: ReadCount = ReadCount()) {
        self.sites = set
        self.table = set.slotTable
        self.reads = reads
    }

    var siteCount: Int { sites.siteCount }
    var hashSeed: UInt64 { sites.hashSeed }
    var slotMask: Int { sites.slotMask }

    func slot(_ i: Int) -> ExactSite {
        reads.count += 1
        return table[i]
    }
}
