/**
 * Defaults that depend on `profile`, layered between the schema defaults and the config file: a production gateway
 * starts from "everything development-only off", so forgetting a setting can only make it refuse to start, never run
 * open. Only leaves that differ from the schema default appear here.
 */
export type Profile = 'development' | 'production';

export const PROFILE_DEFAULTS: Readonly<Record<Profile, Readonly<Record<string, unknown>>>> = Object.freeze({
  development: Object.freeze({}),
  production: Object.freeze({
    // No SIMULATED node and no simulated evidence; measurements must be listed (an empty list admits nothing).
    tee: Object.freeze({ local: false, allowSimulated: false, measurements: Object.freeze([]) }),
    // No embedded anvil: publishing needs a real chain.rpcUrl and registry address, so it is off until configured.
    chain: Object.freeze({ enabled: false }),
    // Billing takes a real chain's contract, token and receiver: off until configured.
    payments: Object.freeze({ enabled: false }),
    // Every call needs an API key.
    auth: Object.freeze({ mode: 'api-keys' }),
  }),
});
