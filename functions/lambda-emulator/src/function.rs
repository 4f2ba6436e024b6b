//! A Lambda function as a child process: the `bootstrap` started with the environment Lambda
//! gives it and nothing else, in an empty directory, polling its own Runtime API.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::process::{ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncRead, BufReader};
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

use crate::apigw::{HttpApiRequest, HttpApiResponse, HttpError};
use crate::error::{InvocationError, StartError};
use crate::runtime_api::RuntimeApi;

/// How many lines of the function's output an error report quotes.
const LOG_TAIL_LINES: usize = 40;

/// What Lambda knows about a function, and so what it puts in the runtime's environment.
#[derive(Debug, Clone)]
pub struct FunctionSpec {
    /// The function's name (`AWS_LAMBDA_FUNCTION_NAME`; also the prefix of its log lines).
    pub name: String,
    /// The `bootstrap` executable.
    pub program: PathBuf,
    /// Runs the program through this, e.g. `qemu-aarch64-static` for an arm64 `bootstrap`
    /// (a bare name is looked up on this process's `PATH`).
    pub runner: Option<PathBuf>,
    pub memory_mb: u32,
    /// Lambda allows the init phase 10 s; an emulated CPU may need longer.
    pub init_timeout: Duration,
    /// The function's timeout (template.yaml's `Timeout`), also each invocation's deadline.
    pub timeout: Duration,
    pub region: String,
    /// The function's own variables (template.yaml's `Environment`), set after Lambda's.
    pub env: Vec<(String, String)>,
}

impl FunctionSpec {
    /// A function running `program` natively, with Lambda's defaults: 128 MB, a 3 s timeout,
    /// 10 s to start, in `eu-central-1`, with no variables of its own.
    pub fn new(name: impl Into<String>, program: impl Into<PathBuf>) -> Self {
        Self {
            name: name.into(),
            program: program.into(),
            runner: None,
            memory_mb: 128,
            init_timeout: Duration::from_secs(10),
            timeout: Duration::from_secs(3),
            region: "eu-central-1".into(),
            env: Vec::new(),
        }
    }

    /// Adds a variable of the function's own.
    pub fn var(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.push((name.into(), value.into()));
        self
    }

    /// The variables Lambda defines for an OS-only runtime (`provided.al2023`), with fake
    /// execution-role credentials.
    fn lambda_env(&self, runtime_api: &str, task_root: &Path) -> Vec<(String, String)> {
        let task_root = task_root.display().to_string();
        let vars = [
            ("_HANDLER", "bootstrap".to_owned()),
            ("AWS_REGION", self.region.clone()),
            ("AWS_DEFAULT_REGION", self.region.clone()),
            ("AWS_LAMBDA_FUNCTION_NAME", self.name.clone()),
            (
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            ),
            ("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST".into()),
            ("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand".into()),
            (
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{}", self.name),
            ),
            (
                "AWS_LAMBDA_LOG_STREAM_NAME",
                "2026/12/01/[$LATEST]0123456789abcdef0123456789abcdef".into(),
            ),
            ("AWS_LAMBDA_RUNTIME_API", runtime_api.to_owned()),
            ("AWS_ACCESS_KEY_ID", "ASIAEMULATOREXAMPLE0".into()),
            (
                "AWS_SECRET_ACCESS_KEY",
                "emulator/secret/access/key/example".into(),
            ),
            ("AWS_SESSION_TOKEN", "emulator-session-token".into()),
            ("LAMBDA_TASK_ROOT", task_root),
            ("LAMBDA_RUNTIME_DIR", "/var/runtime".into()),
            ("LANG", "en_US.UTF-8".into()),
            ("TZ", ":UTC".into()),
            ("PATH", "/usr/local/bin:/usr/bin/:/bin:/opt/bin".into()),
        ];
        vars.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
    }
}

/// A running function; its process is killed when this drops.
pub struct Function {
    name: String,
    api: RuntimeApi,
    child: Child,
    spawned: Instant,
    init_timeout: Duration,
    timeout: Duration,
    /// The end of what the process printed, quoted when it fails.
    log: Arc<Mutex<VecDeque<String>>>,
    /// The tasks copying its stdout and stderr: done when the process has closed both.
    readers: Vec<JoinHandle<()>>,
    /// An empty directory as its working directory and task root, so it can lean on no file
    /// of this machine's (in Lambda, `/var/task` holds the bootstrap alone).
    _task_root: tempfile::TempDir,
}

impl Function {
    /// Starts the function's Runtime API and its process; [`Function::ready`] waits for init.
    pub async fn start(spec: FunctionSpec) -> Result<Self, StartError> {
        let arn = format!(
            "arn:aws:lambda:{}:123456789012:function:{}",
            spec.region, spec.name
        );
        let api = RuntimeApi::start(arn).await.map_err(StartError::Listen)?;
        let task_root = tempfile::tempdir().map_err(StartError::TaskRoot)?;
        let mut cmd = match &spec.runner {
            Some(runner) => {
                let mut c = Command::new(resolve(runner)?);
                c.arg(&spec.program);
                c
            }
            None => Command::new(&spec.program),
        };
        cmd.env_clear()
            .envs(spec.lambda_env(&api.address(), task_root.path()))
            .envs(spec.env.iter().cloned())
            .current_dir(task_root.path())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().map_err(|source| StartError::Spawn {
            program: spec.runner.clone().unwrap_or_else(|| spec.program.clone()),
            source,
        })?;
        let log = Arc::new(Mutex::new(VecDeque::new()));
        let mut readers = Vec::new();
        if let Some(out) = child.stdout.take() {
            readers.push(copy_lines(out, spec.name.clone(), log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            readers.push(copy_lines(err, spec.name.clone(), log.clone()));
        }
        Ok(Self {
            name: spec.name,
            api,
            child,
            spawned: Instant::now(),
            init_timeout: spec.init_timeout,
            timeout: spec.timeout,
            log,
            readers,
            _task_root: task_root,
        })
    }

    /// Returns the function's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Waits for the end of the init phase (the runtime's first poll) and returns how long
    /// it took from the process's start.
    pub async fn ready(&mut self) -> Result<Duration, InvocationError> {
        let ready = tokio::select! {
            biased;
            r = self.api.ready(self.init_timeout) => r,
            status = self.child.wait() => Err(self.exited(status)),
        };
        match ready {
            Ok(()) => Ok(self.spawned.elapsed()),
            Err(e) => Err(self.with_log(e).await),
        }
    }

    /// Invokes the function with `event` and returns its JSON answer.
    pub async fn invoke(
        &mut self,
        event: &serde_json::Value,
    ) -> Result<serde_json::Value, InvocationError> {
        let answer = tokio::select! {
            // An answer posted just before the process exits still counts.
            biased;
            r = self.api.invoke(event, self.timeout) => r,
            status = self.child.wait() => Err(self.exited(status)),
        };
        match answer {
            Ok(v) => Ok(v),
            Err(e) => Err(self.with_log(e).await),
        }
    }

    /// Sends an API Gateway HTTP API request through the function and reads its response.
    pub async fn request(&mut self, req: &HttpApiRequest) -> Result<HttpApiResponse, HttpError> {
        let answer = self.invoke(&req.to_event()).await?;
        Ok(HttpApiResponse::parse(&answer)?)
    }

    /// Returns the last lines the process printed.
    pub fn log(&self) -> String {
        let lines = self.log.lock().unwrap_or_else(|e| e.into_inner());
        lines.iter().cloned().collect::<Vec<_>>().join("\n")
    }

    fn exited(&self, status: std::io::Result<ExitStatus>) -> InvocationError {
        InvocationError::Exited {
            status: status.map_or_else(|e| e.to_string(), |s| s.to_string()),
            init: self.api.init_error(),
            log: String::new(),
        }
    }

    /// Fills an exit report with the process's last output, once its pipes are drained.
    async fn with_log(&mut self, e: InvocationError) -> InvocationError {
        let InvocationError::Exited { status, init, .. } = e else {
            return e;
        };
        for reader in self.readers.drain(..) {
            let _ = tokio::time::timeout(Duration::from_secs(2), reader).await;
        }
        InvocationError::Exited {
            status,
            init,
            log: self.log(),
        }
    }
}

/// Finds a runner named without a path on this process's `PATH` (the function's own `PATH`
/// is Lambda's, which this machine's tools are not on).
fn resolve(runner: &Path) -> Result<PathBuf, StartError> {
    if runner.components().count() > 1 {
        return Ok(runner.to_owned());
    }
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(runner))
        .find(|p| p.is_file())
        .ok_or_else(|| StartError::RunnerNotFound(runner.display().to_string()))
}

/// Copies the process's lines to this process's stderr (which the test harness shows when a
/// test fails), prefixed with the function's name, keeping the last few.
fn copy_lines(
    from: impl AsyncRead + Unpin + Send + 'static,
    name: String,
    tail: Arc<Mutex<VecDeque<String>>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut lines = BufReader::new(from).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            eprintln!("[{name}] {line}");
            let mut tail = tail.lock().unwrap_or_else(|e| e.into_inner());
            if tail.len() == LOG_TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(line);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_process_that_exits_in_init_is_reported_with_its_output() {
        let dir = tempfile::tempdir().unwrap();
        let script = dir.path().join("bootstrap");
        std::fs::write(
            &script,
            "echo \"api=$AWS_LAMBDA_RUNTIME_API home=${HOME:-unset} own=$OWN\"\n\
             echo 'Error: TABLE_NAME is not set' >&2\nexit 3\n",
        )
        .unwrap();
        let mut spec = FunctionSpec::new("f", &script).var("OWN", "yes");
        spec.runner = Some("sh".into());
        let mut f = Function::start(spec).await.unwrap();
        let e = f.ready().await.unwrap_err();
        let InvocationError::Exited { status, init, log } = &e else {
            panic!("{e}")
        };
        assert_eq!((status.as_str(), init), ("exit status: 3", &None));
        // Only Lambda's variables and the function's own: nothing of this machine's.
        assert!(
            log.contains("api=127.0.0.1:") && log.contains("home=unset own=yes"),
            "{log}"
        );
        assert!(log.contains("TABLE_NAME is not set"), "{log}");
        assert!(matches!(
            f.invoke(&serde_json::json!({})).await,
            Err(InvocationError::Exited { .. })
        ));
    }

    #[tokio::test]
    async fn a_runner_not_on_path_is_named() {
        let mut spec = FunctionSpec::new("f", "bootstrap");
        spec.runner = Some("no-such-qemu".into());
        let e = Function::start(spec).await.err().unwrap();
        assert_eq!(e.to_string(), "the runner \"no-such-qemu\" is not on PATH");
    }
}
