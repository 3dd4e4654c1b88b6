/* Hand-written scalar C twin of the engine's one-hidden-layer SGD loop (sigmoid, MSE), for benchmarks only.
 * Same arithmetic, same per-epoch recording of the loss and of every sample's prediction.
 * theta: W1 (h, d) row-major, b1 (h), W2 (h), b2 (1). X: (n, d) row-major. Y: (n).
 * loss_out: (n_epochs). pred_out: (n_epochs, n). */
#include <math.h>
#include <stdlib.h>

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

long train_sgd_sigmoid_mse(double *theta, long h, long d, const double *X, const double *Y, long n, long n_epochs,
                           double lr, double *loss_out, double *pred_out) {
    double *W1 = theta, *b1 = theta + h * d, *W2 = b1 + h, *b2 = W2 + h;
    double *v1 = malloc(sizeof(double) * h), *d1 = malloc(sizeof(double) * h);
    for (long e = 0; e < n_epochs; e++) {
        double total = 0.0;
        for (long i = 0; i < n; i++) {
            const double *x = X + i * d;
            for (long j = 0; j < h; j++) {
                double s = W1[j * d] * x[0];
                for (long c = 1; c < d; c++) s += W1[j * d + c] * x[c];
                v1[j] = sigmoid(s + b1[j]);
            }
            double s = W2[0] * v1[0];
            for (long j = 1; j < h; j++) s += W2[j] * v1[j];
            double y_hat = sigmoid(s + b2[0]);
            pred_out[e * n + i] = y_hat;
            double err = Y[i] - y_hat;
            total += err * err;
            double d2 = (y_hat - Y[i]) * (y_hat * (1.0 - y_hat));
            for (long j = 0; j < h; j++) d1[j] = (W2[j] * d2) * (v1[j] * (1.0 - v1[j]));
            for (long j = 0; j < h; j++) W2[j] -= lr * (d2 * v1[j]);
            b2[0] -= lr * d2;
            for (long j = 0; j < h; j++) {
                for (long c = 0; c < d; c++) W1[j * d + c] -= lr * (d1[j] * x[c]);
                b1[j] -= lr * d1[j];
            }
        }
        loss_out[e] = total / n;
        if (!isfinite(loss_out[e])) { free(v1); free(d1); return e + 1; }
    }
    free(v1);
    free(d1);
    return n_epochs;
}
