// Computes the loss and gradients of a golden case through the installed CircleLoss.Interop package and
// checks them against the case's independent float64 values.
//   dotnet run -- path/to/01_self_n8_d4.json
using System.Text.Json;
using CircleLoss.Interop;

if (args.Length != 1)
{
    Console.Error.WriteLine("usage: Consumer <golden-case.json>");
    return 2;
}

using var document = JsonDocument.Parse(File.ReadAllText(args[0]));
var input = document.RootElement.GetProperty("input");
var expected = document.RootElement.GetProperty("expected").GetProperty("keras");

int[] labels = input.GetProperty("labels").EnumerateArray().Select(e => e.GetInt32()).ToArray();
double[][] rows = input.GetProperty("embeddings").EnumerateArray()
    .Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
var embeddings = new float[rows.Length, rows[0].Length];
for (int i = 0; i < rows.Length; i++)
    for (int k = 0; k < rows[i].Length; k++)
        embeddings[i, k] = (float)rows[i][k];

using var loss = new Circle(new CircleOptions
{
    Gamma = input.GetProperty("gamma").GetDouble(),
    Margin = input.GetProperty("margin").GetDouble(),
});
CircleResult<float> result = loss.Compute(labels, embeddings);

double expectedLoss = expected.GetProperty("loss").GetDouble();
double[][] expectedGradient = expected.GetProperty("grad_embeddings").EnumerateArray()
    .Select(r => r.EnumerateArray().Select(v => v.GetDouble()).ToArray()).ToArray();
double maxError = 0, maxGradient = 0;
for (int i = 0; i < rows.Length; i++)
    for (int k = 0; k < rows[i].Length; k++)
    {
        maxError = Math.Max(maxError, Math.Abs(result.GradEmbeddings![i, k] - expectedGradient[i][k]));
        maxGradient = Math.Max(maxGradient, Math.Abs(expectedGradient[i][k]));
    }

Console.WriteLine($"library {CircleLossLibrary.VersionString} from {CircleLossLibrary.LibraryPath}");
Console.WriteLine($"backend {loss.Backend}; loss {result.Loss[0]:R} (golden {expectedLoss:R}); gradient error {maxError / maxGradient:E2}");
bool ok = Math.Abs(result.Loss[0] - expectedLoss) <= 1e-5 * Math.Abs(expectedLoss) && maxError <= 1e-4 * maxGradient;
Console.WriteLine(ok ? "OK" : "MISMATCH");
return ok ? 0 : 1;
