@troubleshooting
Feature: Troubleshooting — recommended solutions or Contact Microsoft Support do nothing
  Guide rows 9, 11 and 13: the button for recommended solutions, the search
  box, or "Contact Microsoft Support" is clicked and nothing shows up or
  nothing happens. The app gets a token from Azure AD with the outbound OAuth
  provider's credentials and then calls the support connector; when either
  call fails it shows nothing, and only System Logs > Outbound HTTP logs,
  filtered on login.microsoftonline.com and connector.rave.microsoft.com,
  tell why.

  Scenario Outline: Recommended solutions show nothing — <cause>
    Given the world "integrated-basic"
    And "david.miller" selects Microsoft 365 Insights on incident "INC0010002"
    When <cause>
    And <action>
    Then nothing shows up
    And System Logs > Outbound HTTP Requests filtered on "<host>" shows <diagnostic>
    When <fix>
    And <action>
    Then recommended solutions are shown, first "<first solution>"
    # Nothing saved before the fault is lost.
    When "david.miller" opens incident "INC0010002" again
    Then the tab lists the recommended solution "Teams meetings drop or freeze"

    @row-9
    Examples: Clicking the button for Microsoft recommended solutions
      | action                                                                 | first solution                        | cause                                                                                                                                                            | host                      | diagnostic                    | fix                                                                                                                                                             |
      | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~NotTheSecret.00000000000000000000000"                          | login.microsoftonline.com | HTTP 401 with "AADSTS7000215" | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~ContosoOutboundSecret.000000000000"                           |
      | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contosso.onmicrosoft.com/oauth2/token" | login.microsoftonline.com | HTTP 400 with "AADSTS90002"   | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token" |

    @row-9
    Examples: Clicking the button, when the connector cannot be reached
      | action                                                                 | first solution                        | cause                                                                                          | host                         | diagnostic                    | fix                                                                                                                                                                                       |
      | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | the support connector cannot be reached                                                        | connector.rave.microsoft.com | no answer                     | the support connector is reachable again                                                                                                                                                  |

    @row-9
    Examples: Clicking the button, when the outbound app's secret expires
      | action                                                                 | first solution                        | cause                                                                                          | host                         | diagnostic                    | fix                                                                                                                                                                                       |
      | "david.miller" selects Microsoft 365 Insights on incident "INC0010001" | Mail is not syncing on mobile devices | the App Secret of the Azure AD application "ServiceNow Microsoft 365 support outbound" expires | login.microsoftonline.com    | HTTP 401 with "AADSTS7000222" | the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates a new App Secret for "ServiceNow Microsoft 365 support outbound" and the ServiceNow admin enters it into "contoso_outbound" |

    @row-11
    Examples: Typing a problem in the search box
      | action                                                                                             | first solution                | cause                                                                                                                                                            | host                      | diagnostic                    | fix                                                                                                                                                             |
      | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | Teams meetings drop or freeze | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~NotTheSecret.00000000000000000000000"                          | login.microsoftonline.com | HTTP 401 with "AADSTS7000215" | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~ContosoOutboundSecret.000000000000"                           |
      | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | Teams meetings drop or freeze | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contosso.onmicrosoft.com/oauth2/token" | login.microsoftonline.com | HTTP 400 with "AADSTS90002"   | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token" |

    @row-11
    Examples: Typing a problem in the search box, when the connector cannot be reached
      | action                                                                                             | first solution                | cause                                                                                          | host                         | diagnostic                    | fix                                                                                                                                                                                       |
      | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | Teams meetings drop or freeze | the support connector cannot be reached                                                        | connector.rave.microsoft.com | no answer                     | the support connector is reachable again                                                                                                                                                  |

    @row-11
    Examples: Typing a problem in the search box, when the outbound app's secret expires
      | action                                                                                             | first solution                | cause                                                                                          | host                         | diagnostic                    | fix                                                                                                                                                                                       |
      | "david.miller" types "teams meetings drop" in the search box of incident "INC0010001" and searches | Teams meetings drop or freeze | the App Secret of the Azure AD application "ServiceNow Microsoft 365 support outbound" expires | login.microsoftonline.com    | HTTP 401 with "AADSTS7000222" | the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates a new App Secret for "ServiceNow Microsoft 365 support outbound" and the ServiceNow admin enters it into "contoso_outbound" |

  @row-13
  Scenario Outline: Contact Microsoft Support does nothing in <world> — <cause>
    Given the world "<world>"
    And "beth.anglin" links the Microsoft 365 admin account "admin@contoso.onmicrosoft.com"
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010002"
    And a Microsoft 365 service request is opened
    When <cause>
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then nothing happens
    And System Logs > Outbound HTTP Requests filtered on "<host>" shows <diagnostic>
    When <fix>
    And "beth.anglin" selects Contact Microsoft Support on incident "INC0010001"
    Then a Microsoft 365 service request is opened
    When "beth.anglin" opens incident "INC0010002" again
    Then the tab lists the service request

    Examples:
      | world                        | cause                                                                                                                                                            | host                      | diagnostic                    | fix                                                                                                                                                             |
      | integrated-basic             | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~NotTheSecret.00000000000000000000000"                          | login.microsoftonline.com | HTTP 401 with "AADSTS7000215" | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~ContosoOutboundSecret.000000000000"                           |
      | integrated-basic-multitenant | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~NotTheSecret.00000000000000000000000"                          | login.microsoftonline.com | HTTP 401 with "AADSTS7000215" | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~ContosoOutboundSecret.000000000000"                           |
      | integrated-aad               | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~NotTheSecret.00000000000000000000000"                          | login.microsoftonline.com | HTTP 401 with "AADSTS7000215" | the ServiceNow admin changes the Client Secret of the OAuth provider "contoso_outbound" to "Out8Q~ContosoOutboundSecret.000000000000"                           |
      | integrated-basic             | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contosso.onmicrosoft.com/oauth2/token" | login.microsoftonline.com | HTTP 400 with "AADSTS90002"   | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token" |
      | integrated-basic-multitenant | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contosso.onmicrosoft.com/oauth2/token" | login.microsoftonline.com | HTTP 400 with "AADSTS90002"   | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token" |
      | integrated-aad               | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contosso.onmicrosoft.com/oauth2/token" | login.microsoftonline.com | HTTP 400 with "AADSTS90002"   | the ServiceNow admin changes the Token URL of the OAuth provider "contoso_outbound" to "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/token" |

    Examples: The connector cannot be reached
      | world                        | cause                                                                                          | host                         | diagnostic                    | fix                                                                                                                                                                                       |
      | integrated-basic             | the support connector cannot be reached                                                        | connector.rave.microsoft.com | no answer                     | the support connector is reachable again                                                                                                                                                  |
      | integrated-basic-multitenant | the support connector cannot be reached                                                        | connector.rave.microsoft.com | no answer                     | the support connector is reachable again                                                                                                                                                  |
      | integrated-aad               | the support connector cannot be reached                                                        | connector.rave.microsoft.com | no answer                     | the support connector is reachable again                                                                                                                                                  |

   
    Examples: The outbound app's secret expires
      | world                        | cause                                                                                          | host                         | diagnostic                    | fix                                                                                                                                                                                       |
      | integrated-basic             | the App Secret of the Azure AD application "ServiceNow Microsoft 365 support outbound" expires | login.microsoftonline.com    | HTTP 401 with "AADSTS7000222" | the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates a new App Secret for "ServiceNow Microsoft 365 support outbound" and the ServiceNow admin enters it into "contoso_outbound" |
      | integrated-basic-multitenant | the App Secret of the Azure AD application "ServiceNow Microsoft 365 support outbound" expires | login.microsoftonline.com    | HTTP 401 with "AADSTS7000222" | the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates a new App Secret for "ServiceNow Microsoft 365 support outbound" and the ServiceNow admin enters it into "contoso_outbound" |
      | integrated-aad               | the App Secret of the Azure AD application "ServiceNow Microsoft 365 support outbound" expires | login.microsoftonline.com    | HTTP 401 with "AADSTS7000222" | the Azure AD admin "appadmin@contoso.onmicrosoft.com" creates a new App Secret for "ServiceNow Microsoft 365 support outbound" and the ServiceNow admin enters it into "contoso_outbound" |
