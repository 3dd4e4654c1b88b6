/* Hand-written scalar C twin of the engine's one-hidden-layer SGD loop (sigmoid, MSE), for benchmarks only.
 * Same arithmetic, same per-epoch recording: the loss, every sample's prediction when pred_out is given (the engine
 * records them for data of at most 8 training points), and the train accuracy when accuracy_out is given (fraction of
 * points with (y >= 0.5) == (t >= 0.5): from the recorded predictions when there are some, else at the epoch's final
 * weights, with one more forward pass, as the engine computes it).
 * theta: W1 (h, d) row-major, b1 (h), W2 (h), b2 (1). X: (n, d) row-major. Y: (n).
 * loss_out: (n_epochs). pred_out: (n_epochs, n) or NULL. accuracy_out: (n_epochs) or NULL. */
#include <math.h>
#include <stdlib.h>

static double sigmoid(double z) { return 1.0 / (1.0 + exp(-z)); }

/* One hidden layer's forward pass of x into v1; returns the output's logit. */
static inline double forward1(const double *W1, const double *b1, const double *W2, const double *b2, long h, long d,
                              const double *x, double *v1) {
    for (long j = 0; j < h; j++) {
        double s = W1[j * d] * x[0];
        for (long c = 1; c < d; c++) s += W1[j * d + c] * x[c];
        v1[j] = sigmoid(s + b1[j]);
    }
    double s = W2[0] * v1[0];
    for (long j = 1; j < h; j++) s += W2[j] * v1[j];
    return s + b2[0];
}

long train_sgd_sigmoid_mse(double *theta, long h, long d, const double *X, const double *Y, long n, long n_epochs,
                           double lr, double *loss_out, double *pred_out, double *accuracy_out) {
    double *W1 = theta, *b1 = theta + h * d, *W2 = b1 + h, *b2 = W2 + h;
    double *v1 = malloc(sizeof(double) * h), *d1 = malloc(sizeof(double) * h);
    for (long e = 0; e < n_epochs; e++) {
        double total = 0.0;
        for (long i = 0; i < n; i++) {
            const double *x = X + i * d;
            double y_hat = sigmoid(forward1(W1, b1, W2, b2, h, d, x, v1));
            if (pred_out) pred_out[e * n + i] = y_hat;
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
        if (accuracy_out && pred_out) {
            long right = 0;
            for (long i = 0; i < n; i++) right += (pred_out[e * n + i] >= 0.5) == (Y[i] >= 0.5);
            accuracy_out[e] = (double)right / n;
        } else if (accuracy_out) {
            long right = 0;
            for (long i = 0; i < n; i++) {
                right += (sigmoid(forward1(W1, b1, W2, b2, h, d, X + i * d, v1)) >= 0.5) == (Y[i] >= 0.5);
            }
            accuracy_out[e] = (double)right / n;
        }
        if (!isfinite(loss_out[e])) { free(v1); free(d1); return e + 1; }
    }
    free(v1);
    free(d1);
    return n_epochs;
}

/* Hand-written scalar C twin of the engine's per-sample SGD for two hidden layers (tanh), a sigmoid output and MSE,
 * with the metrics every epoch that the engine records for data with a test set (issue 10), for benchmarks only.
 * Per sample, as engine/_kernels.py: forward z = W a + b (the sum started from the first product), a = tanh(z),
 * output y = sigmoid(z); loss (t - y)^2; output delta (y - t)·y(1 - y); hidden delta (W^T delta_next)·(1 - a^2);
 * then every W -= lr·(delta·a_prev), b -= lr·delta, from the parameters before the update.
 * After each epoch, at its final weights: the test loss (mean (t - y)^2), and the train and test accuracy
 * (fraction of points with (y >= 0.5) == (t >= 0.5)).
 * theta: W1 (h1, d), b1 (h1), W2 (h2, h1), b2 (h2), W3 (h2), b3 (1), row-major (engine.network.Layout).
 * X: (n, d), Y: (n): training points in visiting order. Xt: (nt, d), Yt: (nt): test points.
 * metrics_out: (n_epochs, 4) rows [loss, test_loss, train_accuracy, test_accuracy] (engine.trainer.METRIC_COLUMNS).
 * Returns the epochs done (fewer when an epoch's loss is not finite; that epoch is included). */

static double sigmoid_limited(double z) { return z < -709.0 ? exp(z) : 1.0 / (1.0 + exp(-z)); }

/* Forward one sample into a1 (h1) and a2 (h2); returns the output's pre-activation. */
static inline double forward2(const double *theta, long d, long h1, long h2, const double *x, double *a1, double *a2) {
    const double *W1 = theta, *b1 = W1 + h1 * d, *W2 = b1 + h1, *b2 = W2 + h2 * h1, *W3 = b2 + h2, *b3 = W3 + h2;
    for (long j = 0; j < h1; j++) {
        const double *w = W1 + j * d;
        double s = w[0] * x[0];
        for (long c = 1; c < d; c++) s += w[c] * x[c];
        a1[j] = tanh(s + b1[j]);
    }
    for (long j = 0; j < h2; j++) {
        const double *w = W2 + j * h1;
        double s = w[0] * a1[0];
        for (long c = 1; c < h1; c++) s += w[c] * a1[c];
        a2[j] = tanh(s + b2[j]);
    }
    double s = W3[0] * a2[0];
    for (long c = 1; c < h2; c++) s += W3[c] * a2[c];
    return s + b3[0];
}

/* Mean (t - y)^2 over the points, and the fraction classified right into *accuracy. */
static double evaluate2(const double *theta, long d, long h1, long h2, const double *X, const double *Y, long n, double *a1,
                        double *a2, double *accuracy) {
    double total = 0.0;
    long right = 0;
    for (long i = 0; i < n; i++) {
        double y_hat = sigmoid_limited(forward2(theta, d, h1, h2, X + i * d, a1, a2));
        double err = Y[i] - y_hat;
        total += err * err;
        right += (y_hat >= 0.5) == (Y[i] >= 0.5);
    }
    *accuracy = (double)right / n;
    return total / n;
}

long train_sgd_tanh2_mse(double *theta, long d, long h1, long h2, const double *X, const double *Y, long n, const double *Xt,
                         const double *Yt, long nt, long n_epochs, double lr, double *metrics_out) {
    double *W1 = theta, *b1 = W1 + h1 * d, *W2 = b1 + h1, *b2 = W2 + h2 * h1, *W3 = b2 + h2, *b3 = W3 + h2;
    double *a1 = malloc(sizeof(double) * h1), *a2 = malloc(sizeof(double) * h2);
    double *d1 = malloc(sizeof(double) * h1), *d2 = malloc(sizeof(double) * h2);
    long done = n_epochs;
    for (long e = 0; e < n_epochs; e++) {
        double total = 0.0;
        for (long i = 0; i < n; i++) {
            const double *x = X + i * d;
            double y_hat = sigmoid_limited(forward2(theta, d, h1, h2, x, a1, a2));
            double err = Y[i] - y_hat;
            total += err * err;
            double d3 = (y_hat - Y[i]) * (y_hat * (1.0 - y_hat));
            for (long c = 0; c < h2; c++) d2[c] = (W3[c] * d3) * (1.0 - a2[c] * a2[c]);
            for (long c = 0; c < h1; c++) {
                double s = W2[c] * d2[0];
                for (long j = 1; j < h2; j++) s += W2[j * h1 + c] * d2[j];
                d1[c] = s * (1.0 - a1[c] * a1[c]);
            }
            for (long j = 0; j < h1; j++) {
                for (long c = 0; c < d; c++) W1[j * d + c] -= lr * (d1[j] * x[c]);
                b1[j] -= lr * d1[j];
            }
            for (long j = 0; j < h2; j++) {
                for (long c = 0; c < h1; c++) W2[j * h1 + c] -= lr * (d2[j] * a1[c]);
                b2[j] -= lr * d2[j];
            }
            for (long c = 0; c < h2; c++) W3[c] -= lr * (d3 * a2[c]);
            b3[0] -= lr * d3;
        }
        double *row = metrics_out + 4 * e;
        row[0] = total / n;
        row[1] = evaluate2(theta, d, h1, h2, Xt, Yt, nt, a1, a2, &row[3]);
        evaluate2(theta, d, h1, h2, X, Y, n, a1, a2, &row[2]);
        if (!isfinite(row[0])) {
            done = e + 1;
            break;
        }
    }
    free(a1);
    free(a2);
    free(d1);
    free(d2);
    return done;
}
