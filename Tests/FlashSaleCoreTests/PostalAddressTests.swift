import FlashSaleCore
import Testing

@Suite("Shipping addresses seen through reseller jigging")
struct PostalAddressTests {
    static func key(_ line1: String, _ postal: String = "12345", _ country: String = "US") -> String {
        CustomerKey.address(line1: line1, postalCode: postal, country: country)
    }

    @Test("a jigged drop address is one door", arguments: [
        "12 Main Street Apt 4", "12 main st apt 4", "12 Main St. #4", "12 Main St #4", "ZQX 12 Main Street Unit 4",
        "Attn K7 12 MAIN STR Apartment 4", "12 Main St, Suite 4", "12 Main St Ste. 4 xq9", "12 Main St No. 4",
        "１２ Ｍａｉｎ Ｓｔ Ａｐｔ ４", "xx-12 Main Street, Apt. 4, zz",
        // Found by attacking it: designator runs, leading zeros, a left-off suffix, homoglyphs.
        "12 Main St Apt #4", "12 Main St Apt # 4", "12 Main St Apt No. 4", "12 Main St Apt 04", "0012 Main St Apt 4",
        "12 Main Apt 4", "12 Mаin St Apt 4",
    ])
    func jigs(_ line1: String) {
        #expect(Self.key(line1) == "12 main #4|12345|us")
    }

    @Test("ZIP+4 and its spellings are the ZIP")
    func zipPlusFour() {
        #expect(Self.key("12 Main St Apt 4", "12345-6789") == Self.key("12 Main St Apt 4", "12345"))
        #expect(Self.key("12 Main St Apt 4", " 12345 ") == Self.key("12 Main St Apt 4", "12345"))
        #expect(Self.key("12 Main St Apt 4", "12345-67") == Self.key("12 Main St Apt 4", "12345"))
    }

    @Test("different doors stay different customers")
    func differentDoors() {
        let doors = [
            "12 Main St Apt 4", "12 Main St Apt 5", "13 Main St Apt 4", "12 Park Ave Apt 4", "12 Main St", "12b Main St",
            "12 N Main St", "12 Main St N", "12 Main St Apt 4-A", "12 Main St Apt 4-B",
            "12 Main St Bldg A Apt 1", "12 Main St Bldg B Apt 1", "12 Main St Fl 2", "12 Main St Fl 3",
        ]
        #expect(Set(doors.map { Self.key($0) }).count == doors.count, "\(doors.map { Self.key($0) })")
        #expect(Self.key("1 Flat Rock Rd Apt 4") != Self.key("1 Flat Rock Rd Apt 5"), "'Flat' in a street name is a name")
        #expect(Self.key("12 Main St Apt 4", "54321") != Self.key("12 Main St Apt 4"))
        #expect(Self.key("12 Main St Apt 4", "12345", "CA") != Self.key("12 Main St Apt 4"))
        // The suffix is not part of the key: a left-off "St" must not make a new customer,
        // at the price of one door for two streets of one name, number and ZIP.
        #expect(Self.key("12 Main Ave Apt 4") == Self.key("12 Main St Apt 4"))
    }

    @Test("names written two ways and post office boxes are one door")
    func spellings() {
        #expect(Self.key("96 Saint James Pl") == Self.key("96 St James Pl"))
        #expect(Self.key("PO Box 12") == Self.key("P.O. Box 12"))
        #expect(Self.key("Post Office Box 12") == Self.key("PO Box 12"))
        #expect(Self.key("PO Box 12") != Self.key("PO Box 13"))
    }

    @Test("a street named after a suffix keeps its name; a unit without designator is read")
    func streetNames() {
        #expect(Self.key("12 Park Ave") == "12 park|12345|us")
        #expect(Self.key("12 Main St 4B") == "12 main #4b|12345|us")
        #expect(Self.key("12 Main Street North Apt 4") == "12 main n #4|12345|us")
    }

    @Test("number-after-street addresses keep their street")
    func europeanOrder() {
        #expect(Self.key("Hauptstraße 5", "10115", "DE") == "hauptstrasse 5|10115|de")
        #expect(Self.key("Hauptstraße 5, Wohnung 3", "10115", "DE") != Self.key("Hauptstraße 7", "10115", "DE"))
    }

    @Test("the building key drops the unit")
    func building() {
        let a = PostalAddress(line1: "12 Main St Apt 4", postalCode: "12345", country: "US")
        let b = PostalAddress(line1: "xq 12 Main Street #9", postalCode: "12345", country: "US")
        #expect(a.doorKey != b.doorKey)
        #expect(a.buildingKey == b.buildingKey)
    }
}
