package io.agora.ingest.api;

import io.micronaut.context.annotation.Replaces;
import io.micronaut.http.HttpRequest;
import io.micronaut.http.HttpResponse;
import io.micronaut.http.annotation.Produces;
import io.micronaut.http.server.exceptions.ExceptionHandler;
import io.micronaut.validation.exceptions.ConstraintExceptionHandler;
import jakarta.inject.Singleton;
import jakarta.validation.ConstraintViolation;
import jakarta.validation.ConstraintViolationException;
import jakarta.validation.Path;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/** Bean-validation failures of {@code @Valid} bodies as a 400 listing each field, as problem details. */
@Produces(ApiError.MEDIA_TYPE)
@Singleton
@Replaces(ConstraintExceptionHandler.class)
public class ConstraintViolationHandler implements ExceptionHandler<ConstraintViolationException, HttpResponse<ApiError>> {
    @Override
    public HttpResponse<ApiError> handle(HttpRequest request, ConstraintViolationException e) {
        List<Problem> problems = new ArrayList<>();
        for (ConstraintViolation<?> v : e.getConstraintViolations()) {
            problems.add(new Problem(field(v.getPropertyPath()), v.getMessage()));
        }
        problems.sort(Comparator.comparing(Problem::field));
        return HttpResponse.<ApiError>badRequest().contentType(ApiError.MEDIA_TYPE).body(ApiError.of(request,
                io.micronaut.http.HttpStatus.BAD_REQUEST, "invalid request: " + problems.size() + " problem(s)", problems, null));
    }

    /** Drops the method and argument names ({@code deposit.cmd.amountMicros} becomes {@code amountMicros}). */
    static String field(Path path) {
        List<String> names = new ArrayList<>();
        for (Path.Node node : path) {
            if (node.getKind() == jakarta.validation.ElementKind.PROPERTY
                    || node.getKind() == jakarta.validation.ElementKind.CONTAINER_ELEMENT) {
                names.add(node.getName());
            }
        }
        if (names.isEmpty()) {
            String s = path.toString();
            int dot = s.lastIndexOf('.');
            return dot < 0 ? s : s.substring(dot + 1);
        }
        return String.join(".", names);
    }
}
