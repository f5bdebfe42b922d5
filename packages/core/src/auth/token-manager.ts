// Keeps one Vault token alive for one identity: logs in on first use, renews at a fraction of the TTL,
// logs in again when renewal fails or the max TTL is near, and makes concurrent callers share one
// login, so a burst of requests never turns into a burst of logins (and of Vault leases).
import { EventEmitter } from 'node:events';
import { backoffDelay } from '../retry/index.ts';
import type { PermissionDeniedHandler, TokenProvider, VaultClient } from '../vault/client.ts';
import { isVaultDown, VaultPermissionError } from '../vault/errors.ts';
import { renewalDelayMs, unrefTimer, type RenewalTiming } from '../vault/renewal.ts';
import { lookupSelfToken, revokeSelfToken } from '../vault/sys-calls.ts';
import { TokenManagerStoppedError } from './errors.ts';
import { loginFromResponse, type VaultAuthMethod, type VaultLogin } from './login.ts';
import { registerSecret } from '../runtime/secret-redactor.ts';

export interface TokenManagerOptions extends RenewalTiming {
  /** The connection to Vault; its own token is never used. */
  client: VaultClient;
  auth: VaultAuthMethod;
  /**
   * When a renewal grants less than this many seconds, or less than asked (the token's max TTL is
   * near), log in again instead of renewing. Default 10.
   */
  minTtlSeconds?: number;
  /** Revoke the token (`auth/token/revoke-self`) on stop(). Default false. */
  revokeOnStop?: boolean;
  /** Backoff between background retries of a failed renewal or login. */
  retryBaseDelayMs?: number;
  retryMaxDelayMs?: number;
  now?: () => number;
  /**
   * A token an earlier process kept (e.g. stored encrypted), tried once instead of the first login.
   * It is adopted when Vault still accepts it (`lookup-self`, then `renew-self` when renewable), so the
   * leases it owns live on across a restart; otherwise the manager logs in as usual.
   */
  restoreToken?: () => Promise<string | undefined>;
  /** Told of each new login's token (not of a restored one), e.g. to store it for the next process. */
  persistToken?: (token: string, info: TokenInfo) => Promise<void>;
}

export interface TokenInfo {
  accessor: string;
  policies: string[];
  leaseDurationSeconds: number;
  renewable: boolean;
  /** Epoch ms; Infinity for a token without TTL. */
  expiresAt: number;
}

export type TokenOperation = 'renew' | 'login' | 'revoke' | 'restore' | 'persist';

export interface TokenManagerEvents {
  login: [TokenInfo];
  /** A token from restoreToken was adopted instead of logging in. */
  restored: [TokenInfo];
  renewed: [TokenInfo];
  revoked: [{ accessor: string }];
  /** Background failures (renewal, re-login, revocation). Emitted only when someone listens. */
  error: [{ operation: TokenOperation; error: unknown }];
}

interface CurrentToken extends TokenInfo {
  token: string;
  /** The TTL the login granted: what each renewal asks for again. */
  issuedTtlSeconds: number;
}

function infoOf(current: CurrentToken): TokenInfo {
  const { accessor, policies, leaseDurationSeconds, renewable, expiresAt } = current;
  return { accessor, policies, leaseDurationSeconds, renewable, expiresAt };
}

/** How long a token that passed lookup-self is trusted when the same token gets another 403. */
const validatedTrustMs = 5_000;

export class TokenManager extends EventEmitter<TokenManagerEvents> {
  readonly identity: string;
  /** For VaultClient options: `tokenProvider: manager.tokenProvider`. */
  readonly tokenProvider: TokenProvider;
  /** For VaultClient options: re-logs in once when a 403 comes from a revoked or expired token. */
  readonly onPermissionDenied: PermissionDeniedHandler;
  /** A client that uses this manager's token, sharing the given client's connection. */
  readonly client: VaultClient;
  private readonly base: VaultClient;
  private readonly options: TokenManagerOptions;
  private readonly now: () => number;
  private current: CurrentToken | undefined;
  private loginInFlight: Promise<CurrentToken> | undefined;
  private readonly checksInFlight = new Map<string, Promise<boolean>>();
  private validated: { token: string; at: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backgroundFailures = 0;
  private stopped = false;
  private restoreTried = false;

  constructor(options: TokenManagerOptions) {
    super();
    this.options = options;
    this.identity = options.auth.identity;
    this.now = options.now ?? Date.now;
    this.base = options.client.withToken(undefined);
    this.tokenProvider = () => this.token();
    this.onPermissionDenied = (rejected) => this.handlePermissionDenied(rejected);
    this.client = this.base.withTokenProvider(this.tokenProvider, this.onPermissionDenied);
  }

  /** About the current token (never the token itself); undefined before the first login. */
  get info(): TokenInfo | undefined {
    return this.current ? infoOf(this.current) : undefined;
  }

  /** A valid token: the current one, or a new login shared with every concurrent caller. */
  async token(): Promise<string> {
    if (this.stopped) throw new TokenManagerStoppedError(this.identity);
    const current = this.current;
    if (current && !this.nearExpiry(current)) return current.token;
    return (await this.login()).token;
  }

  /** Makes sure there is a valid token (logging in if needed) and says about it: to fail fast at start. */
  async authenticate(): Promise<TokenInfo> {
    if (this.stopped) throw new TokenManagerStoppedError(this.identity);
    const current = this.current && !this.nearExpiry(this.current) ? this.current : await this.login();
    return infoOf(current);
  }

  /** Logs in, coalesced with a login already in flight. */
  private async login(): Promise<CurrentToken> {
    this.loginInFlight ??= this.doLogin().finally(() => {
      this.loginInFlight = undefined;
    });
    return this.loginInFlight;
  }

  /** Stops renewing; revokes the token when `revoke` (default: the revokeOnStop option). */
  async stop(options: { revoke?: boolean } = {}): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimer();
    const current = this.current;
    this.current = undefined;
    if (!current || !(options.revoke ?? this.options.revokeOnStop ?? false)) return;
    try {
      await revokeSelfToken(this.base.withToken(current.token));
      this.emit('revoked', { accessor: current.accessor });
    } catch (error) {
      this.emitError('revoke', error);
    }
  }

  private nearExpiry(current: CurrentToken): boolean {
    if (current.expiresAt === Infinity) return false;
    // A small margin so a token is not handed out a moment before it dies.
    const margin = Math.min(5_000, current.leaseDurationSeconds * 100);
    return this.now() >= current.expiresAt - margin;
  }

  private async doLogin(): Promise<CurrentToken> {
    if (this.options.restoreToken && !this.restoreTried) {
      this.restoreTried = true;
      const restored = await this.restore(this.options.restoreToken);
      if (restored) return restored;
    }
    const login = await this.options.auth.login(this.base);
    if (this.stopped) {
      // stop() came while logging in: do not keep (or leak) the new token.
      if (this.options.revokeOnStop)
        await revokeSelfToken(this.base.withToken(login.clientToken)).catch(() => undefined);
      throw new TokenManagerStoppedError(this.identity);
    }
    const current = this.adopt(login, login.leaseDurationSeconds);
    this.backgroundFailures = 0;
    this.emit('login', infoOf(current));
    if (this.options.persistToken) {
      // Never holds up or fails the login: without a stored token the next process logs in anew.
      this.options
        .persistToken(current.token, infoOf(current))
        .catch((error: unknown) => this.emitError('persist', error));
    }
    return current;
  }

  /**
   * Adopts a kept token when Vault still accepts it. Any failure (none kept, cannot be read, revoked,
   * expired, about to expire) is undefined: the caller logs in.
   */
  private async restore(source: () => Promise<string | undefined>): Promise<CurrentToken | undefined> {
    let token: string | undefined;
    try {
      token = await source();
    } catch (error) {
      this.emitError('restore', error);
      return undefined;
    }
    if (!token) return undefined;
    registerSecret(token);
    const client = this.base.withToken(token);
    try {
      const data = await lookupSelfToken(client);
      const min = this.options.minTtlSeconds ?? 10;
      const ttl = data.ttl ?? 0;
      // A token near its end would only be replaced at once; its leases go with it anyway.
      if (ttl !== 0 && ttl < min) return undefined;
      let restored: VaultLogin;
      let issuedTtl = data.creation_ttl ?? ttl;
      if (data.renewable && ttl !== 0) {
        const renewed = loginFromResponse(
          await client.write('auth/token/renew-self', { increment: `${issuedTtl}s` }),
          'POST',
          'auth/token/renew-self',
        );
        restored = { ...renewed, clientToken: token };
        // Capped by the max TTL: the normal renewal path then logs in again in time.
        issuedTtl = Math.max(issuedTtl, renewed.leaseDurationSeconds);
      } else {
        restored = {
          clientToken: token,
          accessor: data.accessor ?? '',
          policies: data.policies ?? [],
          leaseDurationSeconds: ttl,
          renewable: Boolean(data.renewable),
          metadata: {},
          entityId: '',
          tokenType: 'service',
        };
      }
      if (this.stopped) throw new TokenManagerStoppedError(this.identity);
      const current = this.adopt(restored, issuedTtl);
      this.emit('restored', infoOf(current));
      return current;
    } catch (error) {
      if (error instanceof TokenManagerStoppedError) throw error;
      this.emitError('restore', error);
      return undefined;
    }
  }

  private adopt(login: VaultLogin, issuedTtlSeconds: number): CurrentToken {
    const ttl = login.leaseDurationSeconds;
    this.current = {
      token: login.clientToken,
      accessor: login.accessor,
      policies: login.policies,
      leaseDurationSeconds: ttl,
      renewable: login.renewable,
      expiresAt: ttl > 0 ? this.now() + ttl * 1000 : Infinity,
      issuedTtlSeconds,
    };
    this.validated = undefined;
    this.scheduleRenewal(this.current);
    return this.current;
  }

  private scheduleRenewal(current: CurrentToken): void {
    this.clearTimer();
    if (this.stopped || current.expiresAt === Infinity) return;
    const delay = renewalDelayMs(current.leaseDurationSeconds, this.options);
    this.timer = unrefTimer(() => void this.refresh(current), delay);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Timer callback: renew when possible, else log in again. Never throws. */
  private async refresh(token: CurrentToken): Promise<void> {
    if (this.stopped || this.current !== token) return;
    if (!token.renewable || this.now() >= token.expiresAt) {
      await this.backgroundLogin();
      return;
    }
    const asked = token.issuedTtlSeconds;
    let renewed: VaultLogin;
    try {
      const response = await this.base
        .withToken(token.token)
        .write('auth/token/renew-self', { increment: `${asked}s` });
      renewed = loginFromResponse(response, 'POST', 'auth/token/renew-self');
    } catch (error) {
      if (this.stopped || this.current !== token) return;
      this.emitError('renew', error);
      if (isVaultDown(error) && this.now() < token.expiresAt) {
        // Vault is down: try renewing again later, while the token still lives.
        this.retryLater(() => this.refresh(token), token.expiresAt);
        return;
      }
      // Revoked, expired, past its max TTL (Vault says so with a 500) or refused: only a new login helps.
      this.current = undefined;
      await this.backgroundLogin();
      return;
    }
    if (this.stopped || this.current !== token) return;
    const min = this.options.minTtlSeconds ?? 10;
    if (renewed.leaseDurationSeconds < min || renewed.leaseDurationSeconds < asked) {
      // Vault grants exactly what is asked unless the max TTL caps it: the token will die soon whatever
      // we do, so log in again now, while it still works.
      await this.backgroundLogin();
      return;
    }
    this.backgroundFailures = 0;
    const adopted = this.adopt({ ...renewed, clientToken: token.token }, asked);
    this.emit('renewed', infoOf(adopted));
  }

  private async backgroundLogin(): Promise<void> {
    try {
      await this.login();
    } catch (error) {
      if (this.stopped) return;
      this.emitError('login', error);
      // Keep trying in the background; token() callers meanwhile try (and fail) on their own.
      this.retryLater(() => this.backgroundLogin(), Infinity);
    }
  }

  private retryLater(action: () => Promise<void>, notAfter: number): void {
    this.clearTimer();
    if (this.stopped) return;
    const delay = backoffDelay(this.backgroundFailures, {
      baseDelayMs: this.options.retryBaseDelayMs ?? 1_000,
      maxDelayMs: this.options.retryMaxDelayMs ?? 60_000,
    });
    this.backgroundFailures += 1;
    // Never sleep past notAfter: from then on the caller takes another route (renew → log in).
    this.timer = unrefTimer(() => void action(), Math.max(0, Math.min(delay, notAfter - this.now())));
  }

  /**
   * A request got 403 with `rejected`. If a newer token exists, retry with it. Else ask Vault whether
   * the token is still valid (lookup-self): if not (revoked, expired), log in again and retry; if it
   * is, the 403 is a policy decision and stands. Concurrent 403s for one token share one check.
   */
  private async handlePermissionDenied(rejected: string): Promise<boolean> {
    if (this.stopped) return false;
    if (this.current && this.current.token !== rejected) return true;
    if (this.validated?.token === rejected && this.now() - this.validated.at < validatedTrustMs) return false;
    let check = this.checksInFlight.get(rejected);
    if (!check) {
      check = this.checkAndRelogin(rejected).finally(() => this.checksInFlight.delete(rejected));
      this.checksInFlight.set(rejected, check);
    }
    return check;
  }

  private async checkAndRelogin(rejected: string): Promise<boolean> {
    try {
      await lookupSelfToken(this.base.withToken(rejected));
      this.validated = { token: rejected, at: this.now() };
      return false;
    } catch (error) {
      if (!(error instanceof VaultPermissionError)) return false;
    }
    if (this.current?.token === rejected) {
      this.current = undefined;
      this.clearTimer();
    }
    await this.login();
    return true;
  }

  private emitError(operation: TokenOperation, error: unknown): void {
    // An 'error' event nobody listens to would throw from a timer and crash the process.
    if (this.listenerCount('error') > 0) this.emit('error', { operation, error });
  }
}
