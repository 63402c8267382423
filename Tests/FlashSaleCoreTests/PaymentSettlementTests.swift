import FlashSaleCore
import Foundation
import Testing

/// How a provider's answer changes a payment attempt (`PaymentSettlement`), the part both
/// stores share before they write.
@Suite struct PaymentSettlementTests {
    static let now = Date(timeIntervalSince1970: 1_796_140_800)

    static func payment(_ status: PaymentRecord.Status) -> PaymentRecord {
        PaymentRecord(
            id: .timeOrdered(), reservationID: UUID(), saleID: UUID(), status: status, email: "a@example.com", quantity: 1,
            amountCents: 12_900, currency: "EUR", cardFingerprint: "card", addressKey: "1 main st|1|us", chargeID: nil,
            idempotency: IdempotencyClaim(scope: "payment:x", key: "k", body: Data("{}".utf8)), response: nil,
            createdAt: now, updatedAt: now, flags: [])
    }

    static func reservation(_ status: ReservationRecord.Status, expiresIn seconds: TimeInterval) -> ReservationRecord {
        ReservationRecord(
            id: UUID(), saleID: UUID(), passID: UUID(), email: "a@example.com", customerKey: "a@example.com", quantity: 1,
            amountCents: 12_900, status: status, createdAt: now.addingTimeInterval(-60), expiresAt: now.addingTimeInterval(seconds))
    }

    @Test func aRecordedOutcomeSetsStatusAndResponseAndNeedsNoReservation() throws {
        var payment = Self.payment(.pending)
        let step = try #require(PaymentSettlement.step(for: payment, result: .declined(reason: "card_declined")))
        #expect(PaymentSettlement.begin(step, on: &payment) == nil)
        #expect(payment.status == .declined && payment.response?.status == 402 && payment.chargeID == nil)
    }

    @Test func aChargeIsTheOrderOnlyWhileItsReservationIsHeldAndLive() throws {
        var payment = Self.payment(.unknown)
        let step = try #require(PaymentSettlement.step(for: payment, result: .charged(chargeID: "ch_1")))
        let charge = try #require(PaymentSettlement.begin(step, on: &payment))
        #expect(payment.chargeID == "ch_1" && payment.status == .unknown)
        #expect(charge.refusal(reservation: Self.reservation(.held, expiresIn: 30), now: Self.now) == nil)
        #expect(charge.refusal(reservation: Self.reservation(.held, expiresIn: 0), now: Self.now) == .reservationExpired)
        #expect(charge.refusal(reservation: Self.reservation(.cancelled, expiresIn: 30), now: Self.now) == .reservationExpired)
        #expect(charge.refusal(reservation: Self.reservation(.paid, expiresIn: 30), now: Self.now) == .alreadyPaid)
        #expect(charge.refusal(reservation: nil, now: Self.now) == .reservationExpired)
    }

    @Test func aChargeForAnAttemptAlreadyToldItFailedIsRefunded() throws {
        var payment = Self.payment(.failed)
        let step = try #require(PaymentSettlement.step(for: payment, result: .charged(chargeID: "ch_2")))
        let charge = try #require(PaymentSettlement.begin(step, on: &payment))
        #expect(charge.refusal(reservation: Self.reservation(.held, expiresIn: 30), now: Self.now) == .paymentFailed)
    }
}
