import FlashSaleCore

/// How a reseller farm makes each order look like another customer's: a fresh email at a
/// fresh domain, a fresh valid card number, and one of a few drop addresses "jigged" so
/// no two orders spell it alike (issue 10). The per-customer limit must see through the
/// jig, not through the fresh email and card, which are as good as a real customer's.
public enum FarmDisguise {
    /// A door the farm ships to: a house on a street with an apartment number.
    public struct DropAddress: Sendable, Equatable {
        public var house: Int
        /// The street's name without its suffix ("Harbor" for "Harbor Street").
        public var street: String
        public var apartment: Int
        public var city: String
        public var postalCode: String
        public var country = "US"
    }

    /// The farm's drop addresses: `count` distinct doors, each in a building of its own.
    public static func dropAddresses(_ count: Int) -> [DropAddress] {
        let streets = ["Harbor", "Ferry", "Dock", "Canal", "Pier", "Wharf", "Quay", "Mill"]
        return (0..<max(count, 0)).map { index in
            DropAddress(
                house: 100 + 17 * index, street: streets[index % streets.count], apartment: 4 + index,
                city: "Newark", postalCode: String(7105 + index).leftPadded(to: 5))
        }
    }

    /// The spellings of a street suffix and of an apartment designator a jig picks from.
    public static let streetSuffixes = ["Street", "St", "Str", "ST."]
    public static let apartmentDesignators = ["Apt", "Apt.", "Unit", "#", "Apartment"]

    /// A `line1` naming `drop`'s door under a new spelling: a junk prefix (a letter, a
    /// letter, a digit, such as "XQ7": never a house number, a suffix or a designator), a
    /// spelling of "Street" and one of the apartment, with the same numbers.
    public static func jig<G: RandomNumberGenerator>(_ drop: DropAddress, using g: inout G) -> String {
        let letters = Array("ABCDEFGHJKLMNPQRSTUVWXYZ")
        let junk = String([letters.randomElement(using: &g)!, letters.randomElement(using: &g)!]) + String(Int.random(in: 0...9, using: &g))
        let suffix = streetSuffixes.randomElement(using: &g)!
        let designator = apartmentDesignators.randomElement(using: &g)!
        let apartment = designator == "#" ? "#\(drop.apartment)" : "\(designator) \(drop.apartment)"
        return "\(junk) \(drop.house) \(drop.street) \(suffix) \(apartment)"
    }

    /// A Luhn-valid 16-digit number starting with 45: the provider charges it (only its
    /// named test cards decline), and it never equals a test card or an honest shopper's
    /// card (those start with 42).
    public static func freshCard<G: RandomNumberGenerator>(using g: inout G) -> String {
        let body = (0..<13).map { _ in String(Int.random(in: 0...9, using: &g)) }.joined()
        return CardDetails.withCheckDigit("45" + body)
    }

    /// `buyer<random>@<random>.example`: a new local part at a new domain every time, so
    /// neither the per-customer limit nor the shared-domain signal links two orders.
    public static func freshEmail<G: RandomNumberGenerator>(using g: inout G) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz")
        let local = UInt32.random(in: .min ... .max, using: &g)
        var domain = ""
        for _ in 0..<10 { domain.append(alphabet.randomElement(using: &g)!) }
        return "buyer\(local)@\(domain).example"
    }

    /// A name that changes with every order (names are free to vary: the shop ignores them).
    public static func freshName<G: RandomNumberGenerator>(using g: inout G) -> String {
        let first = ["Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee"]
        let last = ["Miller", "Baker", "Stone", "Ward", "Fox", "Hale", "Cole", "Page"]
        return "\(first.randomElement(using: &g)!) \(last.randomElement(using: &g)!)"
    }

    /// The payment body of one farm order.
    static func paymentBody(card: String, name: String, line1: String, drop: DropAddress) -> String {
        """
        {"card": {"number": "\(card)", "exp_month": 12, "exp_year": 2030, "cvc": "123"}, \
        "shipping": {"name": "\(name)", "line1": "\(line1)", "city": "\(drop.city)", \
        "postal_code": "\(drop.postalCode)", "country": "\(drop.country)"}}
        """
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(width - count, 0)) + self }
}
