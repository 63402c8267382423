import ArgumentParser

@main
struct FlashSale: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "flashsale",
        abstract: "A flash-sale server: fair waiting room, no oversell, no double charge.",
        subcommands: [Serve.self, Migrate.self, PSP.self, Crowd.self, Bench.self]
    )
}
