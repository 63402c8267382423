import Testing

/// The suites that play crowds against a spawned server and judge timing (admission order,
/// the flow of admissions, a farm's share): one at a time, so that one's load (a farm's
/// solver burning a core, a crowd's thousand connections) does not starve another's clock.
/// Swift Testing runs suites in parallel; `.serialized` here covers the nested suites.
@Suite(.serialized) enum CrowdScaleTests {}
