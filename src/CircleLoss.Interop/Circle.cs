using System;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using CircleLoss.Interop.Native;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace CircleLoss.Interop;

/// <summary>
/// Circle Loss with the semantics of Keras 3's <c>keras.losses.Circle</c> (Sun et al., CVPR 2020), computed
/// by the native library on the CPU or a CUDA device. Holds one native session; dispose it when done.
/// </summary>
/// <remarks>
/// <para><b>Inputs.</b> <c>labels</c> holds the N query labels; <c>embeddings</c> the N×D query embeddings,
/// row-major (row i starts at element i·D), meant to be L2-normalised; <c>dimension</c> is D. Optional:
/// <c>sampleWeights</c> (N values ≥ 0; all ones when empty), <c>refLabels</c> and <c>refEmbeddings</c>
/// (M labels and M×D embeddings of a reference set). Without references the queries are their own
/// references; with <c>refLabels</c> only, the references are the queries with those labels (M = N); with
/// <c>refEmbeddings</c> only, the reference labels are the query labels (M = N). In the span methods an
/// empty optional span means "not given" (so an explicitly empty reference set needs the array methods).
/// Every length is checked before the native library is called, and an
/// <see cref="ArgumentException"/> names the parameter and the expected length.</para>
/// <para><b>Outputs.</b> Every output span is written by the caller-owned memory it points to and only on
/// success: when a call throws, no output has been written. Outputs must not overlap inputs or each other.
/// The library keeps no pointer to any span after a call returns.</para>
/// <para><b>Threads.</b> All members are thread-safe: one <see cref="Circle"/> may run calls from many
/// threads at once (the native session is thread-safe). <see cref="Dispose"/> may race with running calls:
/// the session is destroyed when the last running call returns, and calls that start after
/// <see cref="Dispose"/> throw <see cref="ObjectDisposedException"/>. A <see cref="Circle"/> that is never
/// disposed releases its session when it is finalised.</para>
/// <para><b>Errors.</b> See <see cref="CircleLossException"/> for how native status codes map to exceptions.</para>
/// </remarks>
public sealed unsafe partial class Circle : IDisposable
{
    /// <summary>Values of saved forward state per query row (<c>LP_i</c> then <c>LN_i</c>): the saved state of N rows
    /// has <c>SavedStatePerRow · N</c> values.</summary>
    public const int SavedStatePerRow = NativeConstants.CIRCLELOSS_SAVED_STATE_PER_ROW;

    private readonly SessionHandle _session;
    private readonly ILogger _logger;
    private readonly circleloss_options _nativeOptions;
    private readonly circleloss_problem _problemTemplate;
    private readonly circleloss_forward_output _forwardTemplate;
    private readonly circleloss_gradient_output _gradientTemplate;
    private volatile bool _disposed;

    /// <summary>Creates the loss and its native session.</summary>
    /// <param name="options">Keras's arguments, the gradient mode and the backend; Keras's defaults when null.</param>
    /// <param name="logger">Receives the backend chosen (Debug), a fallback from <see cref="Backend.Auto"/> to the
    /// CPU (Information, once) and native failures; nothing at Information or above per call. Optional.</param>
    /// <exception cref="CircleLossArgumentException">The library rejected a value of <paramref name="options"/> (the
    /// native message and <see cref="CircleLossArgumentException.NativeArgument"/> say which).</exception>
    /// <exception cref="CircleLossBackendUnavailableException"><see cref="Backend.Cuda"/> was asked for and cannot be used.</exception>
    /// <exception cref="CircleLossNativeLibraryException">The native library cannot be loaded.</exception>
    /// <exception cref="CircleLossException">The native library failed otherwise.</exception>
    public Circle(CircleOptions? options = null, ILogger? logger = null)
    {
        options ??= new CircleOptions();
        Options = options;
        _logger = logger ?? NullLogger.Instance;
        NativeLibraryLoader.EnsureLoaded();

        // The library validates the options (here, so that bad ones fail now rather than at the first call) and
        // the session settings (when it creates the session): the façade repeats none of its rules.
        circleloss_options nativeOptions;
        CheckInit(NativeMethods.circleloss_options_init(&nativeOptions), "circleloss_options_init");
        nativeOptions.gamma = options.Gamma;
        nativeOptions.margin = options.Margin;
        nativeOptions.remove_diagonal = options.RemoveDiagonal ? 1 : 0;
        nativeOptions.reduction = (circleloss_reduction)options.Reduction;
        nativeOptions.gradient_mode = (circleloss_gradient_mode)options.GradientMode;
        circleloss_status checkedOptions = NativeMethods.circleloss_options_check(&nativeOptions);
        if (checkedOptions != circleloss_status.CIRCLELOSS_STATUS_OK)
        {
            NativeError rejected = NativeErrors.LastError();
            Log.SessionCreationFailed(_logger, options.Backend, NativeErrors.StatusName(checkedOptions), rejected.Message);
            throw NativeErrors.Create(checkedOptions, "circleloss_options_check", rejected);
        }

        _nativeOptions = nativeOptions;

        circleloss_session_config config;
        CheckInit(NativeMethods.circleloss_session_config_init(&config), "circleloss_session_config_init");
        config.backend = (circleloss_backend)options.Backend;
        config.device_index = options.DeviceIndex;
        config.num_threads = options.ThreadCount;
        config.workspace_limit_bytes = options.WorkspaceLimitBytes;
        config.flags = options.AllowTF32 ? (uint)NativeConstants.CIRCLELOSS_SESSION_FLAG_ALLOW_TF32 : 0u;

        SessionHandle? session = SessionHandle.Create(&config, out circleloss_status status, out NativeError error);
        if (session is null)
        {
            Log.SessionCreationFailed(_logger, options.Backend, NativeErrors.StatusName(status), error.Message);
            Exception exception = NativeErrors.Create(status, "circleloss_session_create", error);
            if (exception is CircleLossArgumentException argument && argument.ParamName is null)
            {
                exception = new CircleLossArgumentException(argument.Message, nameof(options), argument.Status, argument.NativeMessage);
            }

            throw exception;
        }

        _session = session;
        try
        {
            circleloss_session* handle = session.Session;
            circleloss_backend backend;
            byte* reason = null;
            byte* description = null;
            int threads;
            CheckInit(NativeMethods.circleloss_session_backend(&backend, handle), "circleloss_session_backend");
            CheckInit(NativeMethods.circleloss_session_fallback_reason(&reason, handle), "circleloss_session_fallback_reason");
            CheckInit(NativeMethods.circleloss_session_describe(&description, handle), "circleloss_session_describe");
            CheckInit(NativeMethods.circleloss_session_num_threads(&threads, handle), "circleloss_session_num_threads");
            Backend = (Backend)backend;
            string fallback = NativeErrors.Text(reason);
            FallbackReason = fallback.Length == 0 ? null : fallback;
            Description = NativeErrors.Text(description);
            ThreadCount = threads;

            circleloss_problem problem;
            CheckInit(NativeMethods.circleloss_problem_init(&problem), "circleloss_problem_init");
            _problemTemplate = problem;
            circleloss_forward_output forward;
            CheckInit(NativeMethods.circleloss_forward_output_init(&forward), "circleloss_forward_output_init");
            _forwardTemplate = forward;
            circleloss_gradient_output gradient;
            CheckInit(NativeMethods.circleloss_gradient_output_init(&gradient), "circleloss_gradient_output_init");
            _gradientTemplate = gradient;
        }
        catch
        {
            session.Dispose();
            throw;
        }

        Log.SessionCreated(_logger, Backend, options.Backend, ThreadCount, Description);
        if (FallbackReason is not null)
        {
            Log.BackendFallback(_logger, FallbackReason);
        }
    }

    /// <summary>The options this loss was created with.</summary>
    public CircleOptions Options { get; }

    /// <summary>Keras's <c>reduction</c> of this loss (from <see cref="Options"/>).</summary>
    public Reduction Reduction => Options.Reduction;

    /// <summary>The backend the session actually runs on: <see cref="Interop.Backend.Cpu"/> or
    /// <see cref="Interop.Backend.Cuda"/>, never <see cref="Interop.Backend.Auto"/>.</summary>
    public Backend Backend { get; }

    /// <summary>Why a session asked for with <see cref="Interop.Backend.Auto"/> runs on the CPU; null when it did
    /// not fall back. A copy: valid for as long as the caller keeps it.</summary>
    public string? FallbackReason { get; }

    /// <summary>The library's one-line description of the session's backend (threads, GEMM kernel, device). A copy
    /// made when the session was created: valid for as long as the caller keeps it.</summary>
    public string Description { get; }

    /// <summary>The CPU worker threads the session uses (1 for CUDA sessions).</summary>
    public int ThreadCount { get; }

    /// <summary>The native session (diagnostics and tests).</summary>
    internal SessionHandle Handle => _session;

    /// <summary>The options as the native calls receive them.</summary>
    internal circleloss_options NativeOptions => _nativeOptions;

    /// <summary>Whether <see cref="Dispose"/> has been called.</summary>
    public bool IsDisposed => _disposed;

    /// <summary>The number of loss values for N query rows: N for <see cref="Interop.Reduction.None"/>, else 1.</summary>
    /// <param name="rows">N, the number of query rows.</param>
    public int LossLength(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        return Options.Reduction == Reduction.None ? rows : 1;
    }

    /// <summary>The number of saved-state values for N query rows (<see cref="SavedStatePerRow"/> · N).</summary>
    /// <param name="rows">N, the number of query rows.</param>
    public static int SavedStateLength(int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        return checked(SavedStatePerRow * rows);
    }

    /// <summary>Destroys the native session (after the calls running on other threads have returned). Calling it
    /// again does nothing.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _session.Dispose();
        Log.SessionDisposed(_logger, Backend);
    }

    /// <inheritdoc />
    public override string ToString() =>
        $"Circle(gamma={Options.Gamma}, margin={Options.Margin}, remove_diagonal={Options.RemoveDiagonal}, reduction={Options.Reduction}, backend={Backend})";

    private static void CheckInit(circleloss_status status, string function)
    {
        if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
        {
            throw NativeErrors.Create(status, function, NativeErrors.LastError());
        }
    }

    // ------------------------------------------------------------------------------------------------
    // The one path every computation takes: validate, pin, call, map the status.
    // ------------------------------------------------------------------------------------------------

    private enum Operation
    {
        Forward,
        ForwardBackward,
        Backward,
        ProductFloor,
    }

    /// <summary>The spans of one call. Optional ones are empty when absent; the Has* flags say which were given.</summary>
    private ref struct Call<T>
        where T : unmanaged
    {
        public LabelSpan Labels;
        public ReadOnlySpan<T> Embeddings;
        public int Dimension;
        public ReadOnlySpan<T> SampleWeights;
        public LabelSpan RefLabels;
        public bool HasRefLabels;
        public ReadOnlySpan<T> RefEmbeddings;
        public bool HasRefEmbeddings;
        public ReadOnlySpan<T> Upstream;
        public ReadOnlySpan<T> SavedStateIn;
        public Span<T> Loss;
        public Span<T> PerSampleLoss;
        public Span<bool> Mask;
        public Span<T> SavedStateOut;
        public Span<T> GradEmbeddings;
        public Span<T> GradRefEmbeddings;
        public long DiagonalOffset;
        public double ReductionDivisor;
        public Span<double> ReductionTerms;
    }

    // Names of the regions checked for overlap, in the order Execute fills them.
    private static readonly string[] RegionNames =
    [
        "labels", "embeddings", "sampleWeights", "refLabels", "refEmbeddings", "upstream", "savedState",
        "loss", "perSampleLoss", "mask", "savedState", "gradEmbeddings", "gradRefEmbeddings", "reductionTerms",
    ];

    private const int FirstOutputRegion = 7;

    /// <returns>For <see cref="Operation.ProductFloor"/> the seconds the library measured; 0 otherwise.</returns>
    private double Execute<T>(Operation operation, scoped ref Call<T> call)
        where T : unmanaged
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        RequireElementType<T>();

        // ---- Shapes: everything is checked before the library is called. ----
        var shape = new Shape
        {
            Labels = call.Labels.Length,
            Embeddings = call.Embeddings.Length,
            Dimension = call.Dimension,
            SampleWeights = OptionalLength(call.SampleWeights.Length),
            RefLabels = call.HasRefLabels ? call.RefLabels.Length : -1,
            RefEmbeddings = call.HasRefEmbeddings ? call.RefEmbeddings.Length : -1,
            Upstream = OptionalLength(call.Upstream.Length),
            SavedStateIn = call.SavedStateIn.Length,
            Loss = call.Loss.Length,
            PerSampleLoss = OptionalLength(call.PerSampleLoss.Length),
            Mask = OptionalLength(call.Mask.Length),
            SavedStateOut = OptionalLength(call.SavedStateOut.Length),
            GradEmbeddings = call.GradEmbeddings.Length,
            // Required when reference embeddings are given (0 values for an empty reference set), else must be empty.
            GradRefEmbeddings = call.HasRefEmbeddings ? call.GradRefEmbeddings.Length : OptionalLength(call.GradRefEmbeddings.Length),
            ReductionTerms = OptionalLength(call.ReductionTerms.Length),
        };
        (long n, long m) = CheckShapes(operation, shape, "empty");
        long d = call.Dimension;
        if (call.HasRefLabels && !call.RefLabels.IsEmpty && call.RefLabels.IsInt64 != call.Labels.IsInt64)
        {
            throw new ArgumentException(
                $"refLabels must have the integer type of labels ({(call.Labels.IsInt64 ? "64" : "32")}-bit), but are {(call.RefLabels.IsInt64 ? "64" : "32")}-bit.",
                "refLabels");
        }

        // ---- Pin, check overlaps, call. ----
        T dummy = default; // stands in for a required array of zero length: the library never reads or writes it
        fixed (byte* labels = call.Labels)
        fixed (T* embeddings = call.Embeddings)
        fixed (T* sampleWeights = call.SampleWeights)
        fixed (byte* refLabels = call.RefLabels)
        fixed (T* refEmbeddings = call.RefEmbeddings)
        fixed (T* upstream = call.Upstream)
        fixed (T* savedStateIn = call.SavedStateIn)
        fixed (T* loss = call.Loss)
        fixed (T* perSampleLoss = call.PerSampleLoss)
        fixed (bool* mask = call.Mask)
        fixed (T* savedStateOut = call.SavedStateOut)
        fixed (T* gradEmbeddings = call.GradEmbeddings)
        fixed (T* gradRefEmbeddings = call.GradRefEmbeddings)
        fixed (double* reductionTerms = call.ReductionTerms)
        {
            int size = sizeof(T);
            Span<Region> regions =
            [
                new(labels, call.Labels.ByteLength), new(embeddings, call.Embeddings.Length * (long)size),
                new(sampleWeights, call.SampleWeights.Length * (long)size), new(refLabels, call.RefLabels.ByteLength),
                new(refEmbeddings, call.RefEmbeddings.Length * (long)size), new(upstream, call.Upstream.Length * (long)size),
                new(savedStateIn, call.SavedStateIn.Length * (long)size),
                new(loss, call.Loss.Length * (long)size), new(perSampleLoss, call.PerSampleLoss.Length * (long)size),
                new(mask, call.Mask.Length), new(savedStateOut, call.SavedStateOut.Length * (long)size),
                new(gradEmbeddings, call.GradEmbeddings.Length * (long)size), new(gradRefEmbeddings, call.GradRefEmbeddings.Length * (long)size),
                new(reductionTerms, call.ReductionTerms.Length * (long)sizeof(double)),
            ];
            CheckNoOverlap(regions);

            circleloss_problem problem = _problemTemplate;
            problem.dtype = typeof(T) == typeof(float) ? circleloss_dtype.CIRCLELOSS_DTYPE_FLOAT32 : circleloss_dtype.CIRCLELOSS_DTYPE_FLOAT64;
            problem.memory = circleloss_memory.CIRCLELOSS_MEMORY_HOST;
            problem.label_type = call.Labels.IsInt64 ? circleloss_label_type.CIRCLELOSS_LABELS_INT64 : circleloss_label_type.CIRCLELOSS_LABELS_INT32;
            problem.n = n;
            problem.d = d;
            problem.m = m;
            problem.labels = labels;
            problem.embeddings = embeddings;
            problem.ref_labels = call.HasRefLabels ? (refLabels != null ? refLabels : &dummy) : null;
            problem.ref_embeddings = call.HasRefEmbeddings ? (refEmbeddings != null ? refEmbeddings : &dummy) : null;
            problem.sample_weights = call.SampleWeights.IsEmpty ? null : sampleWeights;
            problem.upstream = call.Upstream.IsEmpty ? null : upstream;
            problem.diagonal_offset = call.DiagonalOffset;
            problem.reduction_divisor = call.ReductionDivisor;

            circleloss_forward_output forward = _forwardTemplate;
            forward.loss = loss != null ? loss : &dummy;
            forward.per_sample_loss = call.PerSampleLoss.IsEmpty ? null : perSampleLoss;
            forward.mask = call.Mask.IsEmpty ? null : (byte*)mask;
            forward.saved_state = call.SavedStateOut.IsEmpty ? null : savedStateOut;
            forward.reduction_terms = call.ReductionTerms.IsEmpty ? null : reductionTerms;

            circleloss_gradient_output gradient = _gradientTemplate;
            gradient.grad_embeddings = gradEmbeddings != null ? gradEmbeddings : &dummy;
            gradient.grad_ref_embeddings = call.HasRefEmbeddings ? (gradRefEmbeddings != null ? gradRefEmbeddings : &dummy) : null;

            circleloss_options options = _nativeOptions;
            void* state = savedStateIn != null ? savedStateIn : &dummy;

            bool added = false;
            double seconds = 0;
            try
            {
                AddRef(ref added);
                CallNative(operation, _session.Session, &options, &problem, &forward, &gradient, state, &seconds);
            }
            finally
            {
                if (added)
                {
                    _session.DangerousRelease();
                }
            }

            return seconds;
        }
    }

    /// <summary>Calls the library function of <paramref name="operation"/>; throws its exception on failure (read on this
    /// thread right after the call).</summary>
    private void CallNative(Operation operation, circleloss_session* session, circleloss_options* options, circleloss_problem* problem,
        circleloss_forward_output* forward, circleloss_gradient_output* gradient, void* savedState, double* seconds)
    {
        (circleloss_status status, string function) = operation switch
        {
            Operation.ProductFloor => (NativeMethods.circleloss_measure_product_floor(seconds, session, problem), "circleloss_measure_product_floor"),
            Operation.Forward => (NativeMethods.circleloss_forward(forward, session, options, problem), "circleloss_forward"),
            Operation.ForwardBackward => (NativeMethods.circleloss_forward_backward(forward, gradient, session, options, problem),
                "circleloss_forward_backward"),
            _ => (NativeMethods.circleloss_backward(gradient, session, options, problem, savedState), "circleloss_backward"),
        };
        if (status != circleloss_status.CIRCLELOSS_STATUS_OK)
        {
            throw Failure(status, function);
        }
    }

    /// <summary>The element types the library computes in; the generic entry points accept any IEEE type, so say so here.</summary>
    private static void RequireElementType<T>()
    {
        if (typeof(T) != typeof(float) && typeof(T) != typeof(double))
        {
            throw new NotSupportedException(
                $"Circle computes in float32 (float) or float64 (double), not {typeof(T).Name}: convert the embeddings first.");
        }
    }

    private void AddRef(ref bool added)
    {
        try
        {
            _session.DangerousAddRef(ref added);
        }
        catch (ObjectDisposedException)
        {
            // Disposed between the check on entry and here.
            throw new ObjectDisposedException(GetType().FullName);
        }
    }

    /// <summary>Logs a failed native call and builds its exception. <paramref name="error"/> is what the library said when
    /// the caller has already read it; otherwise it is read here (call this right after the failure, on the same thread).</summary>
    internal Exception Failure(circleloss_status status, string function, NativeError? error = null)
    {
        NativeError said = error ?? NativeErrors.LastError(); // first: it is about this thread's last call
        string message = said.Message;
        string statusName = NativeErrors.StatusName(status);
        if (NativeErrors.IsCallerError(status))
        {
            Log.NativeCallRejected(_logger, function, statusName, message);
        }
        else
        {
            Log.NativeCallFailed(_logger, function, statusName, message);
        }

        return NativeErrors.Create(status, function, said);
    }

    private static Span<T> Flat<T>(T[,] array)
        where T : unmanaged =>
        MemoryMarshal.CreateSpan(ref Unsafe.As<byte, T>(ref MemoryMarshal.GetArrayDataReference(array)), array.Length);
}
