using System;

namespace CircleLoss.Cli;

/// <summary>
/// An error the user caused and can fix: a bad option value, a missing or malformed data file, an unusable
/// backend asked for by name, an output folder that cannot be written. The tool prints the message on one
/// line and exits with code 2 (<see cref="CliApp.UsageExitCode"/>).
/// </summary>
internal class UsageException : Exception
{
    public UsageException(string message)
        : base(message)
    {
    }

    public UsageException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public UsageException()
    {
    }
}
