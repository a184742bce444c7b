@troubleshooting @cross-scope
Feature: Troubleshooting — cross-scope access to oauth_entity
  The app reads the global tables oauth_entity and oauth_entity_profile to
  find the OAuth providers Setup selects. Two things must allow it: the
  table's own application access ("All application scopes > Can read" on
  oauth_entity, the guide's note in every Setup section), and the two
  Application Cross-Scope Access records the install creates ("If they're
  not created successfully for any reason, create them manually").

  Scenario: Setup refuses to open while oauth_entity cannot be read from other scopes
    Cause: All application scopes > Can read is unchecked on the table oauth_entity
    Fix: check All application scopes > Can read on oauth_entity (in the Global scope)
    Given the world "integrated-basic"
    When the ServiceNow admin unchecks All application scopes > Can read on the table "oauth_entity"
    And the ServiceNow admin switches the current application to "Microsoft 365 support integration"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup shows the error "Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to the table's cross-scope access policy"
    And System Logs > All filtered on "x_mioms_m365_assis" shows "Security restricted: Read operation against 'oauth_entity' from scope 'x_mioms_m365_assis' has been refused due to the table's cross-scope access policy"
    When the ServiceNow admin checks All application scopes > Can read on the table "oauth_entity"
    And the ServiceNow admin switches the current application to "Microsoft 365 support integration"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup opens
    When "david.miller" selects Microsoft 365 Insights on incident "INC0010001"
    Then recommended solutions are shown, first "Mail is not syncing on mobile devices"

  Scenario: The install did not create the Application Cross-Scope Access records
    Cause: the app is installed without its two Application Cross-Scope Access records (read oauth_entity, read oauth_entity_profile)
    Fix: create the two records manually, as the guide says
    Given the world "prerequisites-basic" with the app installed without its Application Cross-Scope Access records
    When the ServiceNow admin switches the current application to "Microsoft 365 support integration"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup shows the error "Read operation on table 'oauth_entity' from scope 'Microsoft 365 support integration' was denied. The application 'Microsoft 365 support integration' must declare a cross scope access privilege. Please contact the application admin to update their access requests."
    When the ServiceNow admin creates the Application Cross-Scope Access record for reading "oauth_entity"
    And the ServiceNow admin creates the Application Cross-Scope Access record for reading "oauth_entity_profile"
    And the ServiceNow admin opens Microsoft 365 Support > Setup
    Then Setup opens
    # Selecting the outbound provider reads oauth_entity_profile too.
    When the admin agrees to the consent
    And the admin selects the OAuth profile "contoso_outbound default_profile" for the outbound OAuth provider
