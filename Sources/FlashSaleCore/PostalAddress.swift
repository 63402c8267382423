/// A shipping address reduced to the door it names, so that one customer counts once
/// against `per_customer_limit` however a reseller "jigs" the spelling of their drop
/// address to look like many customers.
///
/// Rules, applied to `line1` after NFKC and case folding (`TextField.folded`):
/// 1. Letters that only look Latin (Cyrillic and Greek homoglyphs: "Mаin" with a Cyrillic
///    а) are read as the Latin letter (after Unicode's confusables, UTS #39, for the
///    lower-case letters that a folded address can hold).
/// 2. Punctuation separates words; `#` is a word of its own ("#4" is "# 4"). Numbers lose
///    their leading zeros ("0091" is "91", "Apt 04" is "Apt 4").
/// 3. Words take their USPS Publication 28 standard abbreviation: street suffixes (Appendix
///    C1, the common ones), directionals (§233), "Saint" → "st", "P.O. Box"/"Post Office
///    Box" → "po box", and secondary unit designators (Appendix C2). Every designator of a
///    door inside a building ("Apartment", "Apt", "Unit", "Suite", "Ste", "Room", "Flat",
///    "No", "#", and runs of them such as "Apt #" or "Apt No.") becomes one "#": resellers
///    spell one apartment several ways. Floors ("fl") and buildings ("bldg") keep their own
///    designators, so "Bldg A Apt 1" and "Bldg B Apt 1" are two doors.
/// 4. Junk before the house number is dropped: the house number is the first word that is
///    digits, optionally followed by one letter ("12", "12b"), and words before it ("ZQX 12
///    Main St", "Attn Bob 12…") go when a street suffix follows the number (the US order);
///    "Hauptstraße 5" keeps its street.
/// 5. The street is the house number and the words up to the first street suffix after at
///    least one name word ("1 Flat Rock Rd": "flat" is a name here, not a designator), plus a
///    directional after it. The suffix itself is not part of the key: "90 Spruce" and "90
///    Spruce St" are one door (two streets of one name, number and ZIP are rare; a reseller
///    leaving the suffix off is not).
/// 6. After the street, each designator and the word after it form the unit ("# 4", "fl 2");
///    a single letter after a number joins it ("4-A", "4 A" → "4a"). Without a designator, a
///    word holding a digit straight after the street is the unit ("12 Main St 4B"). Anything
///    else after the street is junk and dropped.
/// 7. The postal code keeps letters and digits; a US code starting with five digits is its
///    ZIP (Publication 28 §28: the +4, whole or cut short, narrows delivery within the ZIP).
///    The country is the two-letter code, lower case. City and name are not part of the
///    key: the postal code places the street, and names are free to vary.
public struct PostalAddress: Sendable, Equatable {
    /// House number, street name and directional, without the suffix: "12 main", "12 main n".
    public let street: String
    /// The door inside the building ("#4b", "bldga#1", "fl2"); nil for a whole building.
    public let unit: String?
    public let postalCode: String
    public let country: String

    public init(line1: String, postalCode: String, country: String) {
        let folded = String(TextField.folded(line1).map { Self.homoglyphs[$0] ?? $0 })
        var words: [String] = []
        for word in folded.replacingOccurrences(of: "#", with: " # ")
            .split(whereSeparator: { !($0.isLetter || $0.isNumber || $0 == "#") })
        {
            var word = String(word)
            if word.allSatisfy(\.isNumber), word.count > 1 {
                let trimmed = word.drop { $0 == "0" }
                word = trimmed.isEmpty ? "0" : String(trimmed)
            }
            words.append(Self.abbreviations[word] ?? word)
        }
        words = Self.joinPostOfficeBox(words)
        if let house = words.firstIndex(where: Self.isHouseNumber),
            words[(house + 1)...].contains(where: Self.streetSuffixes.contains)
        {
            words.removeFirst(house)
        }
        // The street: up to the first suffix after a name word, else up to the first
        // designator after a name word, else everything.
        var rest = words.endIndex
        var streetWords = words
        if let suffix = words.indices.first(where: { $0 >= 2 && Self.streetSuffixes.contains(words[$0]) }) {
            streetWords = Array(words[..<suffix])
            rest = suffix + 1
            if rest < words.count, Self.directionals.contains(words[rest]) {
                streetWords.append(words[rest])
                rest += 1
            }
        } else if let designator = words.indices.first(where: { $0 >= 2 && Self.designators.contains(words[$0]) }) {
            streetWords = Array(words[..<designator])
            rest = designator
        }
        street = streetWords.joined(separator: " ")
        unit = Self.unit(in: Array(words[rest...]))
        let nation = country.trimmingCharacters(in: .whitespaces).lowercased()
        var postal = TextField.folded(postalCode).filter { $0.isLetter || $0.isNumber }
        if nation == "us", postal.count > 5, postal.prefix(5).allSatisfy(\.isNumber) { postal = String(postal.prefix(5)) }
        self.postalCode = postal
        self.country = nation
    }

    /// The door: street, unit, postal code and country, e.g. "12 main #4|12345|us". The
    /// per-customer limit counts shipping addresses by this key.
    public var doorKey: String { "\(street)\(unit.map { " " + $0 } ?? "")|\(postalCode)|\(country)" }

    /// The building: the door key without the unit. Several customers of one sale shipping
    /// to one building is a reseller signal (`address_cluster`), not a refusal: flats share
    /// buildings.
    public var buildingKey: String { "\(street)|\(postalCode)|\(country)" }

    /// The unit of the words after the street (rule 6), nil when they name none.
    static func unit(in words: [String]) -> String? {
        var parts: [String] = []
        var index = 0
        while index < words.count {
            guard Self.designators.contains(words[index]) else {
                // Junk, unless it is a bare unit number straight after the street.
                if index == 0, words[0].contains(where: \.isNumber) {
                    let (id, next) = identifier(in: words, at: 0)
                    parts.append("#" + id)
                    index = next
                } else {
                    index += 1
                }
                continue
            }
            let designator = words[index]
            index += 1
            // "Apt #", "Apt No": one designator of a door.
            while designator == "#", index < words.count, words[index] == "#" { index += 1 }
            guard index < words.count, !Self.designators.contains(words[index]) else { continue }
            let (id, next) = identifier(in: words, at: index)
            parts.append(designator + id)
            index = next
        }
        return parts.isEmpty ? nil : parts.joined()
    }

    /// The word at `index`, with a single letter after a number joined to it ("4 a" → "4a").
    private static func identifier(in words: [String], at index: Int) -> (String, next: Int) {
        let word = words[index]
        if index + 1 < words.count, word.allSatisfy(\.isNumber), words[index + 1].count == 1,
            words[index + 1].first!.isLetter, words[index + 1] != "#"
        {
            return (word + words[index + 1], index + 2)
        }
        return (word, index + 1)
    }

    private static func joinPostOfficeBox(_ words: [String]) -> [String] {
        var out: [String] = []
        var index = 0
        while index < words.count {
            if index + 2 < words.count, words[index] == "p", words[index + 1] == "o", words[index + 2] == "box" {
                out += ["po", "box"]
                index += 3
            } else if index + 2 < words.count, words[index] == "post", words[index + 1] == "office", words[index + 2] == "box" {
                out += ["po", "box"]
                index += 3
            } else {
                out.append(words[index])
                index += 1
            }
        }
        return out
    }

    static func isHouseNumber(_ word: String) -> Bool {
        guard let first = word.first, first.isNumber else { return false }
        let letters = word.drop(while: \.isNumber)
        return letters.isEmpty || (letters.count == 1 && letters.first!.isLetter)
    }

    /// Designators after abbreviation: a door ("#"), a floor, a building.
    static let designators: Set<String> = ["#", "fl", "bldg"]
    /// Publication 28 Appendix C1 standard abbreviations of the common street suffixes.
    static let streetSuffixes: Set<String> = [
        "aly", "ave", "blvd", "cir", "ct", "cv", "cres", "dr", "expy", "fwy", "hwy", "ln", "loop", "pkwy", "pl", "plz", "rd",
        "row", "sq", "st", "ter", "trl", "way", "walk", "xing",
    ]
    /// Publication 28 §233 directionals.
    static let directionals: Set<String> = ["n", "s", "e", "w", "ne", "nw", "se", "sw"]

    /// Lower-case Cyrillic and Greek letters confusable with Latin ones (UTS #39
    /// confusables), as they stand after case folding.
    static let homoglyphs: [Character: Character] = [
        "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "i", "ј": "j", "к": "k", "ӏ": "l", "м": "m", "н": "h", "о": "o",
        "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ь": "b",
        "α": "a", "β": "b", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u", "χ": "x",
    ]

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
            // Names written both ways.
            "saint": "st", "mount": "mt", "fort": "ft",
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
