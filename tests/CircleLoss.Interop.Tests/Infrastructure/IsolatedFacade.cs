using System;
using System.Reflection;
using System.Runtime.Loader;

namespace CircleLoss.Interop.Tests.Infrastructure;

/// <summary>
/// A fresh copy of the façade in its own collectible load context: its static loader state starts empty, so the
/// library-loading paths can be tested although the default context has loaded the library already.
/// </summary>
internal sealed class IsolatedFacade : IDisposable
{
    private readonly AssemblyLoadContext _context;
    private readonly Type _library;

    public IsolatedFacade(string assemblyPath)
    {
        _context = new AssemblyLoadContext("circleloss-loader-test-" + Guid.NewGuid(), isCollectible: true);
        Assembly assembly = _context.LoadFromAssemblyPath(assemblyPath);
        _library = assembly.GetType("CircleLoss.Interop.CircleLossLibrary", throwOnError: true)!;
    }

    public string? NativeLibraryPath
    {
        get => (string?)Property("NativeLibraryPath").GetValue(null);
        set => Invoke(() => Property("NativeLibraryPath").SetValue(null, value));
    }

    public string? LoadedFrom => (string?)Property("LoadedFrom").GetValue(null);

    public bool IsLoaded => (bool)Property("IsLoaded").GetValue(null)!;

    public bool TryInitialize(out string? error)
    {
        object?[] arguments = [null];
        bool loaded = (bool)_library.GetMethod("TryInitialize")!.Invoke(null, arguments)!;
        error = (string?)arguments[0];
        return loaded;
    }

    /// <summary>Initialize(), with the exception it throws unwrapped.</summary>
    public void Initialize() => Invoke(() => _library.GetMethod("Initialize")!.Invoke(null, null));

    /// <summary>Initialize() where it must fail: the exception (of the isolated context's type) and its Attempts.</summary>
    public (Exception Exception, string[] Attempts) InitializeFailure()
    {
        try
        {
            _library.GetMethod("Initialize")!.Invoke(null, null);
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            Exception inner = e.InnerException;
            var attempts = (System.Collections.Generic.IReadOnlyList<string>)inner.GetType().GetProperty("Attempts")!.GetValue(inner)!;
            return (inner, [.. attempts]);
        }

        throw new Xunit.Sdk.XunitException("Initialize() did not fail");
    }

    public string VersionString => (string)Property("VersionString").GetValue(null)!;

    public void Dispose() => _context.Unload();

    private PropertyInfo Property(string name) => _library.GetProperty(name) ?? throw new MissingMemberException(_library.FullName, name);

    private static void Invoke(Action action)
    {
        try
        {
            action();
        }
        catch (TargetInvocationException e) when (e.InnerException is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(e.InnerException);
        }
    }
}
