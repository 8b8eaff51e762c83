using System;

namespace CircleLoss.Cli.Training;

/// <summary>
/// A setting of the demo, or the data, does not allow training. <see cref="Setting"/> names the
/// <see cref="DemoSettings"/> property at fault (null when the data are), and the message reads as its continuation
/// ("must be at least 1 (got 0)."), so that a front end can put its own name for the setting first.
/// </summary>
internal sealed class DemoSettingException : Exception
{
    /// <summary>Creates the exception for <paramref name="setting"/> (a <see cref="DemoSettings"/> property, or null for
    /// the data).</summary>
    public DemoSettingException(string? setting, string message)
        : base(message)
    {
        Setting = setting;
    }

    /// <summary>The <see cref="DemoSettings"/> property at fault, or null when the data do not allow a split.</summary>
    public string? Setting { get; }
}
