import type { ClaimedDelivery } from '../store/store.ts';

/** What one application's lanes hold between them. */
interface Share {
  sending: number;
  /** Sending, waiting and reserved. */
  holding: number;
}

interface Lane {
  app: Share;
  appId: string;
  waiting: ClaimedDelivery[];
  sending: number;
  /** How many it may send at once for now (see `#windows`). */
  window: number;
  /** Room kept for deliveries the publisher is storing already leased to this process. */
  reserved: number;
}

export interface LaneOptions {
  /** Requests in flight at once to one endpoint. */
  perEndpoint: number;
  /** Requests in flight at once to the endpoints of one application. */
  perApp: number;
  /** Requests in flight at once over all endpoints. */
  total: number;
  /**
   * Sends one delivery; the lane frees its slot when the promise settles, with whether the
   * endpoint answered (any status but one asking for less), which lets its lane send one more at
   * once; false halves what it may send at once.
   */
  send: (delivery: ClaimedDelivery) => Promise<boolean>;
  /** Whether an endpoint's lane must hold what waits rather than start sending it, for now. */
  holds?: (endpointId: string) => boolean;
  /** Called when an endpoint's lane runs low enough to be worth a claim. */
  onLow: () => void;
  /** Called when the last delivery held has been sent. */
  onEmpty: () => void;
}

/**
 * One lane per endpoint. Claimed deliveries wait in their endpoint's lane, and each lane sends at
 * most `perEndpoint` at once, so a slow endpoint only ever ties up its own slots (design
 * invariant 6); the lanes of one application send at most `perApp` at once between them, so an
 * application with many slow endpoints cannot take every slot either. A lane, or an application,
 * holds up to twice its slots (sending plus waiting): the second half is a prefetch that keeps the
 * endpoint busy between claims, so a claim serves many sends instead of one.
 *
 * Nor can several such applications together: the last quarter of the slots, and of what lanes
 * may hold, is kept for endpoints sending (or holding) nothing yet, one each, of applications
 * using less than an endpoint's share (sending fewer than `perEndpoint`, holding fewer than twice
 * that). Tenants whose endpoints all hang take the first three quarters; beyond them each takes
 * one slot per endpoint and at most an endpoint's share, so another tenant's delivery still goes
 * at once unless a quarter of the slots' worth of endpoints hang beside them (64 at the default
 * 256). (Kept for small applications alone, each took an endpoint's share of it: two hanging
 * beyond the first three quarters starved the rest.) One busy application alone is held only by
 * `perApp`, which is half unless set otherwise.
 *
 * And an endpoint earns its slots, as a TCP sender does its window: it starts sending two at a
 * time, may send one more at once for each answer it gets (any status but 429 and 503), up to
 * `perEndpoint`, so the window doubles each round trip and a healthy endpoint is at full speed
 * after a few; a send that ends without an answer (a timeout, a connection refused), or with one
 * asking for less, halves it, down to two. One that
 * hangs holds two slots until the timeout, not its whole share, so sixteen times as many hanging
 * endpoints are needed to take what the slots hold, and a healthy tenant's delivery still goes.
 * Two, not one: a single long request must not hold up the rest of an endpoint's deliveries.
 */
/** The window an endpoint starts with, and the least it comes down to. */
const FIRST_WINDOW = 2;
/** How many endpoints' windows are remembered once their lanes empty; the oldest go first. */
const REMEMBERED_WINDOWS = 10_000;

export class Lanes {
  readonly #options: LaneOptions;
  readonly #lanes = new Map<string, Lane>();
  /**
   * Endpoints' windows other than the first, kept when their lanes empty (they do between any two
   * messages of an endpoint that keeps up), so an endpoint's window is what its answers made it.
   */
  readonly #windows = new Map<string, number>();
  readonly #apps = new Map<string, Share>();
  readonly #sends = new Set<Promise<void>>();
  #held = 0;
  #sending = 0;

  constructor(options: LaneOptions) {
    this.#options = options;
  }

  /** Sending slots only applications using less than an endpoint's share may take. */
  get #sendingReserve(): number {
    return Math.floor(this.#options.total / 4);
  }

  /** The same for what lanes hold, which bounds claims. */
  get #holdReserve(): number {
    return Math.floor(this.totalHold / 4);
  }

  /** Whether an application holds an endpoint's share or more, and so stays out of the reserve. */
  #big(app: Share): boolean {
    return app.holding >= this.perEndpointHold;
  }

  /** What lanes may hold before only those holding nothing may have more: one each, from the reserve. */
  get #outsideReserve(): number {
    return Math.max(0, this.totalHold - this.#holdReserve - this.#held);
  }

  /** How many deliveries one endpoint may hold, sending and waiting. */
  get perEndpointHold(): number {
    return this.#options.perEndpoint * 2;
  }

  /** How many deliveries the endpoints of one application may hold between them. */
  get perAppHold(): number {
    return this.#options.perApp * 2;
  }

  /** How many deliveries all lanes may hold. */
  get totalHold(): number {
    return this.#options.total * 2;
  }

  get held(): number {
    return this.#held;
  }

  /**
   * Whether some endpoint or application holds more than half its share: it has a backlog
   * waiting in the database.
   */
  get anyFull(): boolean {
    for (const lane of this.#lanes.values()) if (this.#holding(lane) > this.perEndpointHold / 2) return true;
    for (const app of this.#apps.values()) if (app.holding > this.perAppHold / 2) return true;
    return false;
  }

  /**
   * What a claim may give each endpoint that holds deliveries: the rest of its share once it runs
   * below half, nothing before (a claim of one or two rows is not worth its scan).
   */
  slots(): Map<string, number> {
    const slots = new Map<string, number>();
    const outsideReserve = this.#outsideReserve;
    for (const [endpointId, lane] of this.#lanes) slots.set(endpointId, Math.min(this.#free(this.#holding(lane), this.perEndpointHold), outsideReserve));
    return slots;
  }

  /** What a claim may give an endpoint holding nothing: its share, or once only the reserve is left, one. */
  get defaultSlots(): number {
    return Math.min(this.perEndpointHold, Math.max(1, this.#outsideReserve));
  }

  /** The same for each application that holds deliveries, over all its endpoints. */
  appSlots(): Map<string, number> {
    const slots = new Map<string, number>();
    const outsideReserve = this.#outsideReserve;
    for (const [appId, app] of this.#apps) {
      const free = this.#free(app.holding, this.perAppHold);
      slots.set(appId, this.#big(app) ? Math.min(free, outsideReserve) : free);
    }
    return slots;
  }

  add(deliveries: readonly ClaimedDelivery[]): void {
    for (const delivery of deliveries) {
      const lane = this.#lane(delivery.message.appId, delivery.endpoint.id);
      lane.waiting.push(delivery);
      lane.app.holding++;
      this.#held++;
    }
    this.#pump();
  }

  /**
   * Keeps room for one delivery to an endpoint whose lane, and whose application's lanes, are
   * less than half full; one with more may have a backlog in the database, which claims serve in
   * order.
   */
  reserve(appId: string, endpointId: string): boolean {
    if (this.#held >= this.totalHold) return false;
    const lane = this.#lane(appId, endpointId);
    if (this.#holding(lane) >= this.perEndpointHold / 2 || lane.app.holding >= this.perAppHold / 2
      || ((this.#holding(lane) > 0 || this.#big(lane.app)) && this.#outsideReserve === 0)) {
      this.#forgetIfEmpty(endpointId, lane);
      return false;
    }
    lane.reserved++;
    lane.app.holding++;
    this.#held++;
    return true;
  }

  /** Fills a reservation with its delivery, or gives it up (null). */
  fill(appId: string, endpointId: string, delivery: ClaimedDelivery | null): void {
    const lane = this.#lane(appId, endpointId);
    lane.reserved--;
    lane.app.holding--;
    this.#held--;
    if (delivery) this.add([delivery]);
    else this.#forgetIfEmpty(endpointId, lane);
  }

  /** Takes every delivery still waiting (to give its lease back when stopping). */
  takeWaiting(): ClaimedDelivery[] {
    const waiting: ClaimedDelivery[] = [];
    for (const lane of this.#lanes.values()) {
      lane.app.holding -= lane.waiting.length;
      waiting.push(...lane.waiting.splice(0));
    }
    this.#held -= waiting.length;
    return waiting;
  }

  /** Takes the deliveries waiting to go to one endpoint (flow control says they must wait). */
  takeWaitingFor(endpointId: string): ClaimedDelivery[] {
    const lane = this.#lanes.get(endpointId);
    if (!lane) return [];
    const waiting = lane.waiting.splice(0);
    lane.app.holding -= waiting.length;
    this.#held -= waiting.length;
    this.#forgetIfEmpty(endpointId, lane);
    return waiting;
  }

  /** Starts what may be sent now: a lane that was held may send again. */
  resume(): void {
    this.#pump();
  }

  /** Resolves when every send under way has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.#sends);
  }

  #holding(lane: Lane): number {
    return lane.waiting.length + lane.sending + lane.reserved;
  }

  #free(holding: number, hold: number): number {
    return holding > hold / 2 ? 0 : hold - holding;
  }

  #lane(appId: string, endpointId: string): Lane {
    let lane = this.#lanes.get(endpointId);
    if (!lane) {
      let app = this.#apps.get(appId);
      if (!app) {
        app = { sending: 0, holding: 0 };
        this.#apps.set(appId, app);
      }
      lane = { app, appId, waiting: [], sending: 0, window: this.#windows.get(endpointId) ?? Math.min(FIRST_WINDOW, this.#options.perEndpoint), reserved: 0 };
      this.#lanes.set(endpointId, lane);
    }
    return lane;
  }

  #forgetIfEmpty(endpointId: string, lane: Lane): void {
    if (this.#holding(lane) > 0) return;
    this.#lanes.delete(endpointId);
    if (lane.app.holding === 0) this.#apps.delete(lane.appId);
  }

  #pump(): void {
    // Round robin: a lane that starts a send goes to the back, so free slots are shared among the
    // endpoints with work waiting instead of filling the first lanes to their limit.
    for (const [endpointId, lane] of this.#lanes) {
      if (this.#sending >= this.#options.total) return;
      if (lane.waiting.length === 0 || lane.sending >= lane.window || lane.app.sending >= this.#options.perApp) continue;
      if ((lane.sending > 0 || lane.app.sending >= this.#options.perEndpoint) && this.#sending >= this.#options.total - this.#sendingReserve) continue;
      if (this.#options.holds?.(endpointId)) continue;
      this.#start(endpointId, lane, lane.waiting.shift()!);
      this.#lanes.delete(endpointId);
      this.#lanes.set(endpointId, lane);
    }
  }

  /** One more at once after an answer, half as many after none; never below two or above the share. */
  #widen(endpointId: string, lane: Lane, answered: boolean): void {
    const first = Math.min(FIRST_WINDOW, this.#options.perEndpoint);
    const window = answered ? Math.min(lane.window + 1, this.#options.perEndpoint) : Math.max(first, Math.floor(lane.window / 2));
    // An endpoint at full speed keeps its window: its sends touch no map.
    if (window === lane.window) return;
    lane.window = window;
    this.#windows.delete(endpointId);
    if (window === first) return;
    this.#windows.set(endpointId, window);
    if (this.#windows.size > REMEMBERED_WINDOWS) this.#windows.delete(this.#windows.keys().next().value!);
  }

  #start(endpointId: string, lane: Lane, delivery: ClaimedDelivery): void {
    lane.sending++;
    lane.app.sending++;
    this.#sending++;
    const send = this.#options.send(delivery).then((answered) => this.#widen(endpointId, lane, answered), () => {}).finally(() => {
      this.#sends.delete(send);
      lane.sending--;
      lane.app.sending--;
      lane.app.holding--;
      this.#sending--;
      this.#held--;
      const holding = this.#holding(lane);
      this.#forgetIfEmpty(endpointId, lane);
      this.#pump();
      // A lane or an application back at half its share was fuller than a claim fills it to: the
      // database may hold more for it.
      if (holding === Math.floor(this.perEndpointHold / 2) || lane.app.holding === Math.floor(this.perAppHold / 2)) this.#options.onLow();
      if (this.#held === 0) this.#options.onEmpty();
    });
    this.#sends.add(send);
  }
}
