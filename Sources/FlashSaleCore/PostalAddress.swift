/// A shipping address reduced to the door it names, so that one customer counts once
/// against `per_customer_limit` however a reseller "jigs" the spelling of their drop
/// address to look like many customers.
///
/// Rules, applied to `line1` after NFKC and case folding (`TextField.folded`):
/// 1. Punctuation separates words; `#` is a word of its own ("#4" is "# 4").
/// 2. Words take their USPS Publication 28 standard abbreviation: street suffixes
///    (Appendix C1, the common ones: "Street"/"Str" → "st", "Avenue" → "ave"…),
///    directionals (§233: "North" → "n"…) and secondary unit designators (Appendix C2).
///    Every designator of a door inside a building ("Apartment", "Apt", "Unit", "Suite",
///    "Ste", "Room", "Flat", "No", "#") becomes "#": resellers spell one apartment several
///    ways, and two of these words on one building never name different doors in practice.
/// 3. Junk before the house number is dropped: the house number is the first word that is
///    digits, optionally followed by one letter ("12", "12b"); words before it ("ZQX 12 Main
///    St", "Attn Bob 12…") are what resellers prefix to defeat exact matching. Only when a
///    street suffix follows the number (the US order): "Hauptstraße 5" keeps its street.
/// 4. The street runs from the house number to its last suffix word before any unit
///    designator (so "12 Park Ave" keeps "park"), plus a following directional.
/// 5. The unit is the word after the first designator; without a designator, a word
///    holding a digit straight after the street ("12 Main St 4B"). Anything after the unit,
///    or after the street when there is no unit, is junk and dropped.
/// 6. The postal code keeps letters and digits; a US ZIP+4 is cut to its five-digit ZIP
///    (Publication 28 §28: the +4 narrows delivery within the ZIP, and jigs vary it).
///    The country is the two-letter code, lower case. City and name are not part of the
///    key: the postal code already places the street, and names are free to vary.
public struct PostalAddress: Sendable, Equatable {
    /// House number and street: "12 main st".
    public let street: String
    /// The door inside the building, without designator ("4b"); nil for a whole building.
    public let unit: String?
    public let postalCode: String
    public let country: String

    public init(line1: String, postalCode: String, country: String) {
        var words: [String] = []
        for word in TextField.folded(line1).replacingOccurrences(of: "#", with: " # ")
            .split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "#") })
        {
            words.append(Self.abbreviations[String(word)] ?? String(word))
        }
        if let house = words.firstIndex(where: Self.isHouseNumber),
            words[(house + 1)...].contains(where: Self.streetSuffixes.contains)
        {
            words.removeFirst(house)
        }
        let designator = words.firstIndex(where: Self.unitDesignators.contains)
        let beforeUnit = words[..<(designator ?? words.endIndex)]
        var streetEnd = beforeUnit.endIndex
        if let suffix = beforeUnit.lastIndex(where: Self.streetSuffixes.contains) {
            streetEnd = suffix + 1
            if streetEnd < beforeUnit.endIndex, Self.directionals.contains(words[streetEnd]) { streetEnd += 1 }
        }
        street = words[..<streetEnd].joined(separator: " ")
        if let designator {
            unit = designator + 1 < words.count ? words[designator + 1] : nil
        } else if streetEnd < words.count, words[streetEnd].contains(where: \.isNumber) {
            unit = words[streetEnd]
        } else {
            unit = nil
        }
        let nation = country.trimmingCharacters(in: .whitespaces).lowercased()
        var postal = TextField.folded(postalCode).filter { $0.isLetter || $0.isNumber }
        if nation == "us", postal.count == 9, postal.allSatisfy(\.isNumber) { postal = String(postal.prefix(5)) }
        self.postalCode = postal
        self.country = nation
    }

    /// The door: street, unit, postal code and country, e.g. "12 main st#4|12345|us". The
    /// per-customer limit counts shipping addresses by this key.
    public var doorKey: String { "\(street)\(unit.map { "#" + $0 } ?? "")|\(postalCode)|\(country)" }

    /// The building: the door key without the unit. Several customers of one sale shipping
    /// to one building is a reseller signal (`address_cluster`), not a refusal: flats share
    /// buildings.
    public var buildingKey: String { "\(street)|\(postalCode)|\(country)" }

    static func isHouseNumber(_ word: String) -> Bool {
        guard let first = word.first, first.isNumber else { return false }
        let letters = word.drop(while: \.isNumber)
        return letters.isEmpty || (letters.count == 1 && letters.first!.isLetter)
    }

    /// Publication 28 Appendix C2, the designators of a door inside a building, all as "#".
    static let unitDesignators: Set<String> = ["#"]
    /// Publication 28 Appendix C1 standard abbreviations of the common street suffixes.
    static let streetSuffixes: Set<String> = [
        "aly", "ave", "blvd", "cir", "ct", "cv", "cres", "dr", "expy", "fwy", "hwy", "ln", "loop", "pkwy", "pl", "plz", "rd",
        "row", "sq", "st", "ter", "trl", "way", "walk", "xing",
    ]
    /// Publication 28 §233 directionals.
    static let directionals: Set<String> = ["n", "s", "e", "w", "ne", "nw", "se", "sw"]

    static let abbreviations: [String: String] = {
        var table: [String: String] = [
            // Appendix C1 (street suffixes), common spellings.
            "alley": "aly", "avenue": "ave", "av": "ave", "aven": "ave", "avenu": "ave", "avn": "ave", "boulevard": "blvd",
            "boul": "blvd", "circle": "cir", "circ": "cir", "court": "ct", "cove": "cv", "crescent": "cres", "drive": "dr",
            "drv": "dr", "expressway": "expy", "freeway": "fwy", "highway": "hwy", "lane": "ln", "parkway": "pkwy",
            "place": "pl", "plaza": "plz", "road": "rd", "square": "sq", "street": "st", "str": "st", "strt": "st",
            "terrace": "ter", "trail": "trl", "crossing": "xing",
            // §233 directionals.
            "north": "n", "south": "s", "east": "e", "west": "w", "northeast": "ne", "northwest": "nw",
            "southeast": "se", "southwest": "sw",
            // Levels and buildings (Appendix C2) keep their own standard abbreviations.
            "floor": "fl", "building": "bldg",
        ]
        // Appendix C2 designators of a door, plus the "No"/"Number" and "Flat" that shoppers
        // outside the US write for the same thing.
        for door in ["apartment", "apt", "unit", "suite", "ste", "room", "rm", "flat", "no", "number", "nr", "space", "spc"] {
            table[door] = "#"
        }
        return table
    }()
}

extension CustomerKey {
    /// `PostalAddress.doorKey` of a shipping address: "12 Main Street, Apt. 4", "XQ 12 main
    /// st #4" and "12 Main St Unit 4 zz" count as one customer.
    public static func address(line1: String, postalCode: String, country: String) -> String {
        PostalAddress(line1: line1, postalCode: postalCode, country: country).doorKey
    }
}
