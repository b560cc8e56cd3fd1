/**
 * Background preparations, one per dataset and data directory at a time: a caller starts (or
 * joins) one and may wait for it a while; others read its progress. Used by
 * `POST /v1/datasets/{name}/prepare`, whose downloads can outlast an HTTP request.
 *
 * @module
 */
import type { Dataset } from "./types.ts";

/** What is known about a dataset's preparation in this process. */
export interface PreparationStatus {
  /** A preparation is running. */
  running: boolean;
  /** Its latest progress line. */
  progress?: string;
  /** Why the last attempt failed, when it did. */
  error?: string;
}

interface Job {
  promise: Promise<void>;
  status: PreparationStatus;
}

/** Runs and remembers preparations. */
export class PreparationTracker {
  #jobs = new Map<string, Job>();

  /**
   * Start preparing `dataset` (or join the running preparation) and wait up to `waitMs` for it.
   *
   * @param dataset The dataset.
   * @param options Data directory and how long to wait.
   * @returns `true` when it finished within the wait, `false` while it is still running.
   * @throws Whatever the preparation threw, when it failed within the wait.
   */
  async prepare(
    dataset: Dataset,
    options: { dataDir?: string; waitMs: number },
  ): Promise<boolean> {
    const key = `${dataset.info.name}\0${options.dataDir ?? ""}`;
    let job = this.#jobs.get(key);
    if (job === undefined || !job.status.running) {
      const status: PreparationStatus = { running: true };
      const promise = dataset.prepare({
        dataDir: options.dataDir,
        onProgress: (message) => status.progress = message,
      }).then(
        () => {
          status.running = false;
          this.#jobs.delete(key);
        },
        (error: unknown) => {
          status.running = false;
          status.error = error instanceof Error ? error.message : String(error);
          throw error;
        },
      );
      promise.catch(() => {}); // observed by status and by waiters; never unhandled
      job = { promise, status };
      this.#jobs.set(key, job);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<false>((resolve) =>
      timer = setTimeout(() => resolve(false), options.waitMs)
    );
    try {
      return await Promise.race([job.promise.then(() => true as const), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * @param name Dataset name.
   * @param dataDir Data directory it is prepared into.
   * @returns The running or last failed preparation, if any.
   */
  status(name: string, dataDir?: string): PreparationStatus | undefined {
    return this.#jobs.get(`${name}\0${dataDir ?? ""}`)?.status;
  }
}
