//! Batching store operations: callers that arrive while a batch is running are served
//! together by the next one. The SQL stores use it for group commit (many task creations,
//! one transaction and one WAL flush) and for idempotency-key lookups (many
//! lookups, one statement).
//!
//! A batch that fails as a whole is retried one job at a time, so one bad job never fails
//! its neighbours; a store that cannot be reached fails them all at once.

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tokio::sync::{Mutex, mpsc, oneshot};

use super::StoreError;

/// Most jobs in one batch (bounded by the bind-parameter limits of multi-row statements).
const MAX_BATCH: usize = 128;
/// Jobs waiting for a runner before callers wait to hand theirs over.
const QUEUE: usize = 1024;

/// Runs one batch: an answer per job, in order, or an error that fails them all.
pub(crate) type RunBatch<J, O> = Arc<
    dyn Fn(Vec<J>) -> Pin<Box<dyn Future<Output = (Vec<J>, Result<Vec<O>, StoreError>)> + Send>>
        + Send
        + Sync,
>;

/// A job and where its answer goes.
type Queued<J, O> = (J, oneshot::Sender<Result<O, StoreError>>);

/// The queue in front of a store's batch runners, started on first use (inside the
/// runtime); the runners stop when the `Batcher` is dropped.
pub(crate) struct Batcher<J, O> {
    queue: OnceLock<mpsc::Sender<Queued<J, O>>>,
}

impl<J, O> Default for Batcher<J, O> {
    fn default() -> Self {
        Self {
            queue: OnceLock::new(),
        }
    }
}

impl<J, O> std::fmt::Debug for Batcher<J, O> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Batcher")
    }
}

/// How a batcher runs its jobs.
pub(crate) struct Runners<J, O> {
    /// Batches in flight at once: one collects the next batch while another runs.
    pub count: usize,
    pub run: RunBatch<J, O>,
    /// Jobs with the same key never share a batch (two creations of one task id would
    /// both look inserted by a multi-row `INSERT`).
    pub key: Option<fn(&J) -> &str>,
}

impl<J: Send + 'static, O: Send + 'static> Batcher<J, O> {
    /// Queues `job` and waits for its answer; `runners` is called the first time only.
    pub async fn submit(
        &self,
        job: J,
        runners: impl FnOnce() -> Runners<J, O>,
    ) -> Result<O, StoreError> {
        let queue = self.queue.get_or_init(|| spawn(runners()));
        let (tx, rx) = oneshot::channel();
        queue
            .send((job, tx))
            .await
            .map_err(|_| StoreError::Backend("the store's batch runner has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the store's batch runner stopped mid-batch".into()))?
    }
}

fn spawn<J: Send + 'static, O: Send + 'static>(
    runners: Runners<J, O>,
) -> mpsc::Sender<Queued<J, O>> {
    let (tx, rx) = mpsc::channel(QUEUE);
    let rx = Arc::new(Mutex::new(rx));
    for _ in 0..runners.count.max(1) {
        tokio::spawn(runner(rx.clone(), runners.run.clone(), runners.key));
    }
    tx
}

/// Takes whatever is queued (up to a batch) while holding the receiver, then runs it.
async fn runner<J, O>(
    rx: Arc<Mutex<mpsc::Receiver<Queued<J, O>>>>,
    run: RunBatch<J, O>,
    key: Option<fn(&J) -> &str>,
) {
    let mut carry: Option<Queued<J, O>> = None;
    loop {
        let batch = {
            let mut rx = rx.lock().await;
            let first = match carry.take() {
                Some(job) => job,
                None => match rx.recv().await {
                    Some(job) => job,
                    None => return,
                },
            };
            let mut keys = HashSet::new();
            if let Some(key) = key {
                keys.insert(key(&first.0).to_string());
            }
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                let Ok(job) = rx.try_recv() else { break };
                if let Some(key) = key
                    && !keys.insert(key(&job.0).to_string())
                {
                    carry = Some(job);
                    break;
                }
                batch.push(job);
            }
            batch
        };
        run_and_answer(&run, batch).await;
    }
}

async fn run_and_answer<J, O>(run: &RunBatch<J, O>, batch: Vec<Queued<J, O>>) {
    let (jobs, replies): (Vec<J>, Vec<_>) = batch.into_iter().unzip();
    let single = jobs.len() == 1;
    let (jobs, result) = run(jobs).await;
    match result {
        Ok(answers) => {
            for (reply, answer) in replies.into_iter().zip(answers) {
                let _ = reply.send(Ok(answer));
            }
        }
        Err(e) if single => {
            let _ = replies.into_iter().next().map(|r| r.send(Err(e)));
        }
        // One job at a time would not reach the store either, and each would wait out the
        // pool's acquire timeout in turn.
        Err(StoreError::Unavailable(why)) => {
            for reply in replies {
                let _ = reply.send(Err(StoreError::Unavailable(why.clone())));
            }
        }
        Err(e) => {
            tracing::debug!(error = %e, jobs = jobs.len(), "batch failed; running its jobs one by one");
            for (job, reply) in jobs.into_iter().zip(replies) {
                let (_, result) = run(vec![job]).await;
                let answer = result.and_then(|a| {
                    a.into_iter()
                        .next()
                        .ok_or_else(|| StoreError::Backend("a batch gave no answer".into()))
                });
                let _ = reply.send(answer);
            }
        }
    }
}
