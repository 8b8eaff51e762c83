using System;
using System.IO;
using System.Linq;
using System.Reflection;
using CircleLoss.Interop.Native;
using CircleLoss.Interop.Tests.Infrastructure;
using Xunit;

namespace CircleLoss.Interop.Tests;

/// <summary>The static library API: version, path, backends, and the loader (probing, override, lock, failures).</summary>
[Collection(SessionCountingCollection.Name)] // changes the process environment: runs alone
public sealed class LibraryTests : IDisposable
{
    private readonly string _temp = Directory.CreateTempSubdirectory("circleloss-tests-").FullName;
    private readonly string? _savedVariable = Environment.GetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable);

    public LibraryTests()
    {
        // Load the library for the default context first (it may be found through the variable), then let the
        // tests below set the variable as they need.
        CircleLossLibrary.Initialize();
        Environment.SetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable, null);
    }

    public void Dispose()
    {
        Environment.SetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable, _savedVariable);
        Directory.Delete(_temp, recursive: true);
    }

    private static string FacadeAssembly => typeof(Circle).Assembly.Location;

    private static string NativeFile => Path.Combine(TestEnvironment.OutputDir, CircleLossLibrary.NativeLibraryFileName);

    private static string Real(string path) => new FileInfo(path).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(path);

    [Fact]
    public void The_version_is_the_one_of_version_txt_everywhere()
    {
        string version = File.ReadAllText(Path.Combine(TestEnvironment.RepoRoot, "version.txt")).Trim();
        Assert.Equal(version, CircleLossLibrary.VersionString);
        Assert.Equal(Version.Parse(version), CircleLossLibrary.Version);
        Assert.Equal(Version.Parse(version), CircleLossLibrary.BindingsVersion);
        Assert.Equal(Version.Parse(version + ".0"), typeof(Circle).Assembly.GetName().Version);
        Assert.StartsWith(version, typeof(Circle).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()!.InformationalVersion, StringComparison.Ordinal);
    }

    [Fact]
    public void The_library_reports_the_file_it_was_loaded_from()
    {
        CircleLossLibrary.Initialize();
        Assert.True(CircleLossLibrary.IsLoaded);
        string path = CircleLossLibrary.LibraryPath;
        Assert.True(File.Exists(path), path);
        Assert.Equal(Real(CircleLossLibrary.LoadedFrom!), Real(path));
    }

    [Fact]
    public void Backends_can_be_queried()
    {
        BackendAvailability cpu = CircleLossLibrary.QueryBackend(Backend.Cpu);
        Assert.True(cpu.IsAvailable);
        Assert.Equal(Backend.Cpu, cpu.Backend);
        Assert.False(string.IsNullOrWhiteSpace(cpu.Detail));
        BackendAvailability cuda = CircleLossLibrary.QueryBackend(Backend.Cuda);
        Assert.False(string.IsNullOrWhiteSpace(cuda.Detail)); // the devices, or why there are none
        Assert.Equal("backend", Assert.Throws<ArgumentOutOfRangeException>(() => CircleLossLibrary.QueryBackend((Backend)9)).ParamName);
    }

    [Fact]
    public void The_path_cannot_change_once_loaded()
    {
        CircleLossLibrary.Initialize();
        Assert.True(CircleLossLibrary.TryInitialize(out string? error));
        Assert.Null(error);
        Assert.Throws<InvalidOperationException>(() => CircleLossLibrary.NativeLibraryPath = _temp);
    }

    [Fact]
    public void A_missing_library_lists_what_was_tried_and_why()
    {
        string folder = Path.Combine(_temp, "empty-folder");
        Directory.CreateDirectory(folder);
        using var facade = new IsolatedFacade(FacadeAssembly);
        facade.NativeLibraryPath = folder;
        Assert.False(facade.TryInitialize(out string? error));
        Assert.False(facade.IsLoaded);
        Assert.Contains(Path.Combine(folder, CircleLossLibrary.NativeLibraryFileName) + " (from CircleLossLibrary.NativeLibraryPath): no such file", error, StringComparison.Ordinal);
        Assert.Contains("ldd", error, StringComparison.Ordinal);
        Assert.Contains(CircleLossLibrary.NativeLibraryPathVariable, error, StringComparison.Ordinal);

        var (e, attempts) = facade.InitializeFailure();
        Assert.Equal(typeof(CircleLossNativeLibraryException).FullName, e.GetType().FullName);
        Assert.IsAssignableFrom<DllNotFoundException>(e);
        Assert.Equal(error, e.Message);
        Assert.Single(attempts);

        // A path that is neither a file nor a folder.
        facade.NativeLibraryPath = Path.Combine(_temp, "nowhere");
        Assert.False(facade.TryInitialize(out error));
        Assert.Contains(Path.Combine(_temp, "nowhere") + " (from CircleLossLibrary.NativeLibraryPath): no such file or folder", error, StringComparison.Ordinal);

        // Still not loaded: the path may be corrected and loading tried again.
        facade.NativeLibraryPath = TestEnvironment.OutputDir;
        Assert.True(facade.TryInitialize(out error), error);
        Assert.Equal(Real(NativeFile), Real(facade.LoadedFrom!));
    }

    [Fact]
    public void A_file_that_is_not_a_library_reports_the_loader_error()
    {
        string bogus = Path.Combine(_temp, CircleLossLibrary.NativeLibraryFileName);
        File.WriteAllText(bogus, "this is not a shared library");
        using var facade = new IsolatedFacade(FacadeAssembly);
        facade.NativeLibraryPath = bogus;
        var (_, attempts) = facade.InitializeFailure();
        string attempt = Assert.Single(attempts);
        Assert.StartsWith(bogus, attempt, StringComparison.Ordinal);
        Assert.DoesNotContain("no such file", attempt, StringComparison.Ordinal);
        if (OperatingSystem.IsLinux())
        {
            Assert.True(attempt.Contains("ELF", StringComparison.Ordinal) || attempt.Contains("too short", StringComparison.Ordinal), attempt);
        }
    }

    [Fact]
    public void The_environment_variable_overrides_probing()
    {
        using (var facade = new IsolatedFacade(FacadeAssembly))
        {
            Environment.SetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable, Path.Combine(_temp, "missing.so"));
            Assert.False(facade.TryInitialize(out string? error));
            Assert.Contains("missing.so", error, StringComparison.Ordinal);
            Assert.Contains(CircleLossLibrary.NativeLibraryPathVariable, error, StringComparison.Ordinal);
        }

        using (var facade = new IsolatedFacade(FacadeAssembly))
        {
            Environment.SetEnvironmentVariable(CircleLossLibrary.NativeLibraryPathVariable, NativeFile);
            Assert.True(facade.TryInitialize(out string? error), error);
            Assert.Equal(NativeFile, facade.LoadedFrom);
            Assert.Equal(CircleLossLibrary.VersionString, facade.VersionString);
            // Locked once loaded.
            Assert.Throws<InvalidOperationException>(() => facade.NativeLibraryPath = _temp);
        }
    }

    [Theory]
    [InlineData("beside")]
    [InlineData("runtimes")]
    [InlineData("rid")]
    public void The_library_is_found_in_each_layout(string layout)
    {
        // An application folder (beside), a NuGet-style runtimes/<rid>/native folder, or a PowerShell module's <rid> folder.
        string app = Path.Combine(_temp, layout);
        Directory.CreateDirectory(app);
        File.Copy(FacadeAssembly, Path.Combine(app, Path.GetFileName(FacadeAssembly)));
        string rid = NativeLibraryLoader.RuntimeIdentifiers()[^1];
        string folder = layout switch
        {
            "beside" => app,
            "runtimes" => Path.Combine(app, "runtimes", rid, "native"),
            _ => Path.Combine(app, rid),
        };
        Directory.CreateDirectory(folder);
        string library = Path.Combine(folder, CircleLossLibrary.NativeLibraryFileName);
        File.CreateSymbolicLink(library, NativeFile);

        using var facade = new IsolatedFacade(Path.Combine(app, Path.GetFileName(FacadeAssembly)));
        Assert.True(facade.TryInitialize(out string? error), error);
        Assert.Equal(library, facade.LoadedFrom);
    }

    [Fact]
    public void Probing_covers_every_layout_in_order()
    {
        string app = Path.Combine(_temp, "app"), base2 = Path.Combine(_temp, "base");
        string file = CircleLossLibrary.NativeLibraryFileName;
        var rids = NativeLibraryLoader.RuntimeIdentifiers();
        Assert.Contains(rids, r => r.Contains('-', StringComparison.Ordinal));
        var candidates = NativeLibraryLoader.DefaultCandidates([app, base2, app]);
        var expected = new[] { app, base2 }.SelectMany(d =>
            new[] { Path.Combine(d, file) }
                .Concat(rids.Select(r => Path.Combine(d, "runtimes", r, "native", file)))
                .Concat(rids.Select(r => Path.Combine(d, r, file))))
            .ToArray();
        Assert.Equal(expected, candidates);
    }
}
